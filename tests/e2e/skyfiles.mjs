// SkyPilot files in the browser, and the same files in the terminal: paste a config and a task
// into "SkyPilot config" and "Task YAML", see the options fill themselves with their sources,
// check, and get the verdicts that `gcp-preflight check --sky-config config.yaml task.yaml`
// gives against the same fake Google. A malformed file shows its line and column, and nothing
// is sent until it parses.
//
//   trunk build --release && cargo build --locked --bin gcp-preflight && node tests/e2e/skyfiles.mjs
//   (DIST_DIR and CLI_BIN as for run.mjs and cli.mjs)

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { startFakeGoogle } from './fake-google.mjs';
import { HERE, createRunner, assert, assertEqual, poll, distDir, startStaticServer, launchBrowser } from './harness.mjs';
import { AppPage, ALL_TOPICS, FIRST_LAUNCH } from './app-page.mjs';
import { world, TOKENS, ACCOUNTS } from './world.mjs';
import { makeTestCa } from './test-ca.mjs';

const ROOT = path.resolve(HERE, '../..');
const BIN = process.env.CLI_BIN || path.join(ROOT, 'target/debug/gcp-preflight');

const CONFIG = `# ~/.sky/config.yaml
gcp:
  vpc_name: default
  prioritize_reservations: true
  use_internal_ips: false
jobs:
  bucket: gs://demo-seed-1-skypilot/jobs/alice
`;
const TASK = `name: serve
resources:
  cloud: gcp
  ports: 8080
run: python -m http.server 8080
`;
const MALFORMED = `name: broken
resources:
  cloud: gcp
  accelerators: {tpu-v4-8: 1
run: python train.py
`;

/** Runs a command without blocking the event loop; resolves { status, stdout, stderr }. */
function run(cmd, args, { env }) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const LABEL = { ready: 'Ready', not_ready: 'Not ready', unknown: 'Unknown' };
const TOPIC_KEY = { compute: 'compute', storage: 'storage', managed_jobs: 'managedJobs', first_launch: 'firstLaunch' };

async function main() {
  assert(fs.existsSync(BIN), `${BIN} is missing: cargo build --locked --bin gcp-preflight`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gcp-preflight-skyfiles-'));
  const { caPath, key, cert } = makeTestCa(tmp);
  fs.writeFileSync(path.join(tmp, 'config.yaml'), CONFIG);
  fs.writeFileSync(path.join(tmp, 'task.yaml'), TASK);
  const site = await startStaticServer(distDir());
  const fake = await startFakeGoogle({ tls: { key, cert } });
  fake.setScenario(world());
  const browser = await launchBrowser(fake);
  const app = new AppPage(browser.page);
  const runner = createRunner({
    onFailure: async (name) => browser.page.screenshot({ path: path.join(os.tmpdir(), `skyfiles-${name.slice(0, 30).replace(/\W+/g, '-')}.png`), fullPage: true }),
  });
  const page = browser.page;
  const sources = () => app.textOfTestId('sky-sources');
  // The YAML parser lives in a worker of its own (src/bin/skyfiles_worker.rs): its files must not
  // be part of the first load, and must be fetched once, on the first paste.
  const WORKER_FILES = ['skyfiles_worker_loader.js', 'skyfiles_worker.js', 'skyfiles_worker_bg.wasm'];
  const fetched = [];
  browser.page.context().on('request', (r) => fetched.push(new URL(r.url()).pathname.split('/').pop()));
  const fetchCount = (name) => fetched.filter((f) => f === name).length;
  const cspComplaints = [];
  page.on('console', (m) => { if (/Content[- ]Security[- ]Policy/i.test(m.text())) cspComplaints.push(m.text()); });
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });

  runner.test('pasted files fill the options, bucket and sources', async () => {
    await app.open(site.url);
    await app.enterToken(TOKENS.alice);
    await app.waitForIdentity(ACCOUNTS.alice.email);
    await app.enterProject('demo-seed-1');
    for (const f of WORKER_FILES) assertEqual(fetchCount(f), 0, `${f} fetched before any file was pasted`);
    assert(fetched.some((f) => f.endsWith('_bg.wasm')), `the app's own wasm was fetched: ${fetched}`);
    await app.fillField(page.getByLabel('SkyPilot config', { exact: true }), CONFIG);
    await poll(async () => (await sources())?.includes('from config.yaml: gcp.vpc_name'), { what: 'config sources' });
    await app.fillField(page.getByLabel('Task YAML', { exact: true }), TASK);
    await poll(async () => (await sources())?.includes('from task.yaml: resources.ports'), { what: 'sources' });
    for (const f of WORKER_FILES) assertEqual(fetchCount(f), 1, `${f} fetches after two pastes`);
    const text = await sources();
    for (const s of ['from config.yaml: gcp.vpc_name', 'from config.yaml: gcp.prioritize_reservations', 'from config.yaml: jobs.bucket', 'Runs on GCP — from task.yaml: resources.cloud']) {
      assert(text.includes(s), `${s} in ${text}`);
    }
    const form = await app.formState();
    assertEqual([form.options.customVpc, form.options.reservations, form.options.openPorts, form.options.tpus], [true, true, true, false], 'options');
    assertEqual(form.bucket, 'gs://demo-seed-1-skypilot', 'bucket');
    await page.screenshot({ path: path.join(os.tmpdir(), 'skyfiles-filled.png'), fullPage: true });
  });

  runner.test('the browser and the terminal give the same verdicts for the same files', async () => {
    fake.resetLog();
    await app.button('Check').click();
    const topics = [...ALL_TOPICS.filter((t) => t.key !== 'custom'), FIRST_LAUNCH];
    await poll(async () => Object.values(await app.verdictsOf(topics)).every((v) => v && v !== 'Checking…'), { what: 'verdicts', timeout: 20_000 });
    const inBrowser = await app.verdictsOf(topics);
    // Asynchronously: the fake Google answers from this same process.
    const r = await run(BIN, ['check', '-p', 'demo-seed-1', '--json', '--fresh', '--sky-config', path.join(tmp, 'config.yaml'), path.join(tmp, 'task.yaml')], {
      env: {
        PATH: process.env.PATH, HOME: tmp,
        GCP_PREFLIGHT_TEST_ENDPOINT: `https://127.0.0.1:${fake.port}`, GCP_PREFLIGHT_TEST_CA: caPath,
        GCP_PREFLIGHT_CACHE_DIR: path.join(tmp, 'cache'), GCP_PREFLIGHT_TOKEN: TOKENS.alice,
      },
    });
    assert(r.status === 0 || r.status === 1, `CLI exit ${r.status}: ${r.stderr}`);
    const report = JSON.parse(r.stdout);
    const inTerminal = {};
    for (const v of report.verdicts) if (TOPIC_KEY[v.topic]) inTerminal[TOPIC_KEY[v.topic]] = LABEL[v.status];
    for (const t of topics) assertEqual(inBrowser[t.key], inTerminal[t.key] ?? null, `${t.heading}: browser vs terminal`);
    assertEqual(report.options.custom_vpc && report.options.open_ports && report.options.reservations, true, 'CLI options');
    assertEqual(report.bucket, 'demo-seed-1-skypilot', 'CLI bucket');
    return JSON.stringify(inBrowser);
  });

  runner.test('an override stays until the files change, and is marked', async () => {
    await app.setOption('customVpc', false);
    await poll(async () => (await sources())?.includes('(overridden below)'), { what: 'override mark' });
  });

  runner.test('a malformed task shows line and column, and nothing is sent until it parses', async () => {
    await app.fillField(page.getByLabel('Task YAML', { exact: true }), MALFORMED);
    await poll(async () => (await app.textOfTestId('sky-error'))?.includes('task.yaml: line 5, column 4'), { what: 'YAML error' });
    const mark = fake.mark();
    await app.button('Check').click();
    await poll(async () => (await app.alertTexts()).some((a) => a.includes('Fix the SkyPilot file first')), { what: 'refusal' });
    await new Promise((r) => setTimeout(r, 300));
    assertEqual(fake.requestsSince(mark).length, 0, 'requests sent');
    await app.fillField(page.getByLabel('Task YAML', { exact: true }), TASK);
    await poll(async () => (await app.textOfTestId('sky-error')) === null, { what: 'error gone' });
  });

  runner.test('the worker is fetched once in all, and nothing broke the Content Security Policy', async () => {
    for (const f of WORKER_FILES) assertEqual(fetchCount(f), 1, `${f} fetches after every paste`);
    assertEqual(await page.evaluate(() => window.__cspViolations), [], 'CSP violations');
    assertEqual(cspComplaints, [], 'CSP console messages');
  });

  runner.test('a reader whose wasm cannot load says so under the fields, and does not read for ever', async () => {
    await browser.context.route('**/skyfiles_worker_bg.wasm', (route) => route.fulfill({ status: 404, body: 'gone' }));
    try {
      await app.reload();
      await app.fillField(page.getByLabel('Task YAML', { exact: true }), TASK);
      await poll(async () => (await app.textOfTestId('sky-error'))?.includes('could not run in this browser'), { what: 'the reader failure under the fields', timeout: 30_000 });
      assertEqual(await app.textOfTestId('sky-reading'), null, '"Reading the files…" still shown');
    } finally {
      await browser.context.unroute('**/skyfiles_worker_bg.wasm');
    }
  });

  const failed = await runner.run();
  await browser.close();
  await site.stop();
  await fake.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
  process.exit(failed ? 1 : 0);
}

main().catch((err) => { console.error(err); process.exit(1); });
