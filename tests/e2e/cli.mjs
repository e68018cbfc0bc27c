// The terminal build end to end: the real `gcp-preflight` binary against the fake Google over
// loopback HTTPS. The fake serves a leaf certificate signed by a throwaway CA made here, which
// the binary trusts only through GCP_PREFLIGHT_TEST_CA together with the loopback override
// GCP_PREFLIGHT_TEST_ENDPOINT; the token comes from GCP_PREFLIGHT_TOKEN (never an argument).
//
//   cargo build --locked --bin gcp-preflight && node tests/e2e/cli.mjs
//   CLI_BIN=path/to/gcp-preflight  L=300 (latency per request for the timing, ms)
//
// Checks exit codes, the cache (second run: tokeninfo only; --fresh: everything again), that
// the token never reaches the output, that a non-loopback override is refused before anything
// is sent, and that without the CA the fake's certificate is not trusted. Prints the cold and
// cached wall times at latency L as ratios to L.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { startFakeGoogle } from './fake-google.mjs';
import { HERE, createRunner, assert, assertEqual } from './harness.mjs';
import { world, TOKENS, SEED_MISSING } from './world.mjs';
import { makeTestCa } from './test-ca.mjs';

const ROOT = path.resolve(HERE, '../..');
const BIN = process.env.CLI_BIN || path.join(ROOT, 'target/debug/gcp-preflight');
const L = Number(process.env.L ?? 300);

/** Runs the binary; resolves { code, stdout, stderr, ms }. */
function cli(args, env) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - t0 }));
  });
}

async function main() {
  assert(fs.existsSync(BIN), `${BIN} is missing: cargo build --locked --bin gcp-preflight`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gcp-preflight-cli-'));
  const { caPath, key, cert } = makeTestCa(tmp);
  const fake = await startFakeGoogle({ tls: { key, cert } });
  fake.setScenario(world());
  const cacheDir = path.join(tmp, 'cache');
  const baseEnv = {
    PATH: process.env.PATH,
    HOME: tmp, // no ~/.sky/config.yaml, no gcloud configuration
    GCP_PREFLIGHT_TEST_ENDPOINT: `https://127.0.0.1:${fake.port}`,
    GCP_PREFLIGHT_TEST_CA: caPath,
    GCP_PREFLIGHT_CACHE_DIR: cacheDir,
    GCP_PREFLIGHT_TOKEN: TOKENS.alice,
  };
  const noToken = (r) => {
    for (const t of Object.values(TOKENS)) {
      assert(!r.stdout.includes(t) && !r.stderr.includes(t), 'a token was printed');
    }
  };
  const timings = {};
  const runner = createRunner();

  runner.test('not ready is exit 1, with the missing permissions and the fix; the token stays out of the output', async () => {
    fake.resetLog();
    const r = await cli(['check', '-p', 'demo-seed-1'], baseEnv);
    noToken(r);
    assertEqual(r.code, 1, `exit code (stderr: ${r.stderr})`);
    assert(r.stdout.includes(`missing: ${SEED_MISSING.join(', ')}`), r.stdout);
    assert(r.stdout.includes('gcloud projects add-iam-policy-binding demo-seed-1'), r.stdout);
    const reqs = fake.requests();
    assert(reqs.length >= 5, `requests: ${reqs.length}`);
    assert(reqs.every((q) => q.host.endsWith('.googleapis.com')), 'Google hosts only');
    assertEqual(fake.violations(), [], 'violations');
    return `${reqs.length} requests`;
  });

  runner.test('the second run is answered from the cache with no request (identity memo); --fresh asks again', async () => {
    fake.resetLog();
    const r = await cli(['check', '-p', 'demo-seed-1'], baseEnv);
    assertEqual(r.code, 1, 'exit code');
    assert(r.stdout.includes('cached result'), r.stdout);
    // The account comes from the identity memo (a keyed hash of the token), so not even tokeninfo.
    assertEqual(fake.requests().map((q) => q.host), [], 'requests');
    fake.resetLog();
    const f = await cli(['check', '-p', 'demo-seed-1', '--fresh'], baseEnv);
    assertEqual(f.code, 1, 'exit code');
    assert(f.stdout.includes('checked just now'), f.stdout);
    assert(fake.requests().length >= 5, 'everything again');
    // One result, the identity memo and its key: none holds a token or an email.
    const files = fs.readdirSync(cacheDir);
    assert(files.length === 3, `one entry, the memo and its key: ${files}`);
    for (const file of files) {
      const bytes = fs.readFileSync(path.join(cacheDir, file), 'latin1');
      assert(!Object.values(TOKENS).some((t) => bytes.includes(t)) && !bytes.includes('alice@example.com'), `no token or email in ${file}`);
    }
  });

  runner.test('ready is exit 0; --json is gcp-preflight.report/v1', async () => {
    const env = { ...baseEnv, GCP_PREFLIGHT_TOKEN: TOKENS.bob };
    const r = await cli(['check', '-p', 'demo-seed-1', '--json', '--fresh'], env);
    noToken(r);
    assertEqual(r.code, 0, `exit code (stderr: ${r.stderr})`);
    const report = JSON.parse(r.stdout);
    assertEqual(report.schema, 'gcp-preflight.report/v1', 'schema');
    assertEqual(report.account_email, 'bob@example.com', 'account');
    assert(report.verdicts.every((v) => v.status === 'ready'), 'all ready');
  });

  runner.test('an expired token is exit 2 and nothing is cached', async () => {
    const before = fs.readdirSync(cacheDir).length;
    const r = await cli(['check', '-p', 'demo-full-2'], { ...baseEnv, GCP_PREFLIGHT_TOKEN: TOKENS.carol });
    noToken(r);
    assertEqual(r.code, 2, 'exit code');
    assertEqual(fs.readdirSync(cacheDir).length, before, 'cache entries');
  });

  runner.test('a --token-cmd token is used', async () => {
    const env = { ...baseEnv, GCP_PREFLIGHT_TOKEN: '' };
    const r = await cli(['check', '-p', 'demo-full-2', '--token-cmd', `printf %s ${TOKENS.alice}`], env);
    assertEqual(r.code, 0, `exit code (stderr: ${r.stderr})`);
  });

  runner.test('a non-loopback override is refused before anything is sent', async () => {
    fake.resetLog();
    for (const endpoint of ['https://10.1.2.3:443', 'https://example.com:443', `https://127.0.0.1.nip.io:${fake.port}`]) {
      const r = await cli(['check', '-p', 'demo-seed-1'], { ...baseEnv, GCP_PREFLIGHT_TEST_ENDPOINT: endpoint });
      assertEqual(r.code, 2, `${endpoint}: exit code`);
      assert(r.stderr.includes('refused'), r.stderr);
      noToken(r);
    }
    const r = await cli(['check', '-p', 'demo-seed-1'], { ...baseEnv, GCP_PREFLIGHT_TEST_ENDPOINT: '' });
    assertEqual(r.code, 2, 'a CA without the loopback override');
    assert(r.stderr.includes('GCP_PREFLIGHT_TEST_CA'), r.stderr);
    assertEqual(fake.requests({ all: true }).length, 0, 'requests');
  });

  runner.test('without the test CA the fake certificate is not trusted (verification stays on)', async () => {
    fake.resetLog();
    const env = { ...baseEnv };
    delete env.GCP_PREFLIGHT_TEST_CA;
    const r = await cli(['check', '-p', 'demo-seed-1', '--fresh'], env);
    assertEqual(r.code, 2, 'exit code');
    assertEqual(fake.requests({ all: true }).length, 0, 'no request got through TLS');
  });

  runner.test('--markdown is the page\'s Markdown report, over the real HTTPS path; the token stays out', async () => {
    const r = await cli(['check', '-p', 'demo-seed-1', '--markdown', '--fresh'], baseEnv);
    noToken(r);
    assertEqual(r.code, 1, `exit code (stderr: ${r.stderr})`);
    assert(r.stdout.startsWith('# gcp-preflight report: `demo-seed-1`'), r.stdout.slice(0, 200));
    assert(r.stdout.includes('\n## Compute — Not ready\n'), r.stdout);
    assert(r.stdout.includes(SEED_MISSING.map((p) => `\`${p}\``).join(', ')), r.stdout);
  });

  runner.test('--link prints the question for the hosted app: no token asked, nothing sent, no token in it', async () => {
    fake.resetLog();
    const files = path.join(ROOT, 'tests/fixtures/skypilot');
    const env = { ...baseEnv, GCP_PREFLIGHT_APP_URL: 'https://app.example/gcp-preflight/' };
    const r = await cli(['check', '-p', 'demo-seed-1', '--sky-config', path.join(files, 'config.yaml'),
      path.join(files, 'pipeline.yaml'), '--link'], env);
    noToken(r);
    assertEqual(r.code, 0, `exit code (stderr: ${r.stderr})`);
    const link = r.stdout.trim();
    assert(link.startsWith('https://app.example/gcp-preflight/#q1='), link);
    const bytes = Buffer.from(link.split('#q1=')[1], 'base64url');
    assertEqual(bytes[0], 0, 'raw packing');
    const q = JSON.parse(bytes.subarray(5).toString('utf8'));
    assertEqual(q.p, 'demo-seed-1', 'project');
    assertEqual(q.b, 'team-ml-jobs', 'bucket from jobs.bucket');
    assertEqual(q.a, 'trainer@ml-prod-4821.iam.gserviceaccount.com', 'service account from gcp.remote_identity');
    assertEqual(fake.requests({ all: true }).length, 0, 'requests');
    const bad = await cli(['check', '-p', 'demo-seed-1', '--link'], { ...baseEnv, GCP_PREFLIGHT_APP_URL: '' });
    assertEqual(bad.code, 2, 'no app address');
    assert(bad.stderr.includes('--app-url') && bad.stderr.includes('GCP_PREFLIGHT_APP_URL'), bad.stderr);
    return `${link.length} characters`;
  });

  runner.test(`timing at latency L=${L} ms: cold and cached wall time`, async () => {
    fake.setLatency(L);
    const env = { ...baseEnv, GCP_PREFLIGHT_CACHE_DIR: path.join(tmp, 'cache-timing') };
    const cold = await cli(['check', '-p', 'bench-cold-5'], env);
    assertEqual(cold.code, 1, `cold exit code (stderr: ${cold.stderr})`);
    const cached = await cli(['check', '-p', 'bench-cold-5'], env);
    assert(cached.stdout.includes('cached result'), cached.stdout);
    fake.setLatency(0);
    const zero = await cli(['check', '-p', 'bench-cold-5', '--fresh'], env);
    Object.assign(timings, {
      L,
      coldMs: Math.round(cold.ms), coldOverL: Math.round((cold.ms / L) * 100) / 100,
      cachedMs: Math.round(cached.ms), cachedOverL: Math.round((cached.ms / L) * 100) / 100,
      zeroLatencyMs: Math.round(zero.ms),
    });
    // Goal: one wave with tokeninfo in it (cold ~1-2 L), tokeninfo only when cached (~1 L).
    assert(cold.ms < 3 * L + 1500, `cold ${cold.ms} ms`);
    return JSON.stringify(timings);
  });

  const failed = await runner.run();
  await fake.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
  if (Object.keys(timings).length) console.log(`cli timing: ${JSON.stringify(timings)}`);
  process.exit(failed ? 1 : 0);
}

main().catch((err) => { console.error(err); process.exit(1); });
