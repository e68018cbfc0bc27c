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
import { startFakeGoogle } from '../e2e/fake-google.mjs';
import { world, TOKENS } from '../e2e/world.mjs';
import { makeTestCa } from '../e2e/test-ca.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gcp-preflight-py-'));
const { caPath, key, cert } = makeTestCa(tmp);
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
