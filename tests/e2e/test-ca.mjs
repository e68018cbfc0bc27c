// A throwaway certificate authority and a *.googleapis.com leaf it signs, made with openssl in
// `dir`: the fake Google serves the leaf over loopback HTTPS, and the terminal build (or the
// Python package) trusts the CA only through its loopback-only test override. Used by cli.mjs,
// skyfiles.mjs and tests/python/fake-google-server.mjs.

import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

/** Makes the CA and leaf in `dir`; returns { caPath, key, cert } (key and cert as Buffers). */
export function makeTestCa(dir, name = 'gcp-preflight e2e CA') {
  const f = (n) => path.join(dir, n);
  const ssl = (args) => execFileSync('openssl', args, { stdio: 'ignore' });
  ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2',
    '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE',
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
