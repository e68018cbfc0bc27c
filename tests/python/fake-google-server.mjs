// The fake Google of the e2e suite (tests/e2e/fake-google.mjs, world.mjs) as a process for the
// Python tests: loopback HTTPS with a leaf signed by a throwaway CA, as tests/e2e/cli.mjs runs it
// for the terminal build. Prints one JSON line {port, ca, tokens}; then reads one JSON command
// per line on stdin and answers each with one JSON line:
//   {"cmd":"requests"} -> [{method, host, path, sub, status}]   {"cmd":"reset"} -> true
//   {"cmd":"latency","ms":N} -> true                             {"cmd":"violations"} -> [...]
// It stops when stdin closes (the test process ended).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { execFileSync } from 'node:child_process';
import { startFakeGoogle } from '../e2e/fake-google.mjs';
import { world, TOKENS } from '../e2e/world.mjs';

function makeCa(dir) {
  const f = (n) => path.join(dir, n);
  const ssl = (args) => execFileSync('openssl', args, { stdio: 'ignore' });
  ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2',
    '-subj', '/CN=gcp-preflight python tests CA', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('leaf.key'), '-out', f('leaf.csr'), '-subj', '/CN=*.googleapis.com']);
  fs.writeFileSync(f('leaf.ext'), [
    'subjectAltName=DNS:*.googleapis.com,DNS:googleapis.com', 'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth', '',
  ].join('\n'));
  ssl(['x509', '-req', '-in', f('leaf.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial',
    '-out', f('leaf.pem'), '-days', '2', '-extfile', f('leaf.ext')]);
  return { caPath: f('ca.pem'), key: fs.readFileSync(f('leaf.key')), cert: fs.readFileSync(f('leaf.pem')) };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gcp-preflight-py-'));
const { caPath, key, cert } = makeCa(tmp);
const fake = await startFakeGoogle({ tls: { key, cert } });
fake.setScenario(world());
process.stdout.write(`${JSON.stringify({ port: fake.port, ca: caPath, tokens: TOKENS })}\n`);

const answer = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);
const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const command = JSON.parse(line);
  switch (command.cmd) {
    case 'requests':
      answer(fake.requests({ all: true }).map(({ method, host, path: p, sub, status }) => ({ method, host, path: p, sub, status })));
      break;
    case 'reset': fake.resetLog(); answer(true); break;
    case 'latency': fake.setLatency(command.ms); answer(true); break;
    case 'violations': answer(fake.violations()); break;
    default: answer({ error: `unknown command ${command.cmd}` });
  }
});
lines.on('close', async () => {
  await fake.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
  process.exit(0);
});
