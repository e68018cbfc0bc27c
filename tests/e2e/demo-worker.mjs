// Demo mode's simulated Google runs in a web worker of its own (src/bin/demo_worker.rs): a check
// against (the fake) Google fetches no demo worker; "Try the demo" starts it once, its answers
// give the demo's verdicts, and no request of the page reaches any Google host meanwhile; the
// demo accounts share that one worker, and Check all's many calls in flight each get their own
// reply. A worker whose wasm cannot load is an error on the page,
// never a verdict, and never a page that waits for ever.
//
//   trunk build --release && node tests/e2e/demo-worker.mjs   (DIST_DIR as for run.mjs)

import { assert, assertEqual, poll, distDir, withEnvironment, watchWorkerSuite } from './harness.mjs';
import { AppPage } from './app-page.mjs';
import { world, TOKENS, ACCOUNTS } from './world.mjs';

const WORKER_FILES = ['demo_worker_loader.js', 'demo_worker.js', 'demo_worker_bg.wasm'];
// The demo's seed story (src/core/demo.rs): storage works, compute does not.
const SEED = { compute: 'Not ready', storage: 'Ready', managedJobs: 'Not ready' };
const TIMEOUT = 30_000;

async function main() {
  const failed = await withEnvironment(distDir(), async ({ site, fake, browser }) => {
    fake.setScenario(world());
    const app = new AppPage(browser.page);
    const page = browser.page;
    const { runner, count, cspComplaints, pageErrors } = watchWorkerSuite(browser, 'demo-worker');
    // The page's requests at the fake Google: to the app's hosts, or carrying the page's Origin
    // (Chromium's own background calls are neither).
    const origin = new URL(site.url).origin;
    const pageRequestsAtGoogle = () => fake.requests({ all: true }).filter((q) => q.appHost || q.origin === origin);

    runner.test('a check against Google fetches no demo worker', async () => {
      await app.open(site.url);
      await app.enterToken(TOKENS.alice);
      await app.waitForIdentity(ACCOUNTS.alice.email);
      await app.enterProject('demo-seed-1');
      await app.clickAndSettle('Check');
      assertEqual((await app.verdicts()).compute, 'Not ready', 'the real check ran');
      for (const f of WORKER_FILES) assertEqual(count(f), 0, `${f} fetches without demo mode`);
    });

    runner.test('"Try the demo" starts the worker once; its answers give the demo verdicts, and nothing goes to Google', async () => {
      await app.reload();
      fake.resetLog();
      await app.button('Try the demo').click({ timeout: TIMEOUT });
      await app.clickAndSettle('Check');
      assertEqual(await app.verdicts(), SEED, 'demo verdicts');
      assert((await app.identity())?.includes('alice@'), `the demo account: ${await app.identity()}`);
      for (const f of WORKER_FILES) assertEqual(count(f), 1, `${f} fetches`);
      const sent = pageRequestsAtGoogle();
      assertEqual(sent.map((q) => `${q.method} ${q.host}${q.path}`), [], 'page requests at Google in demo mode');
    });

    runner.test('the other demo account and a Re-check are answered by the same worker', async () => {
      await app.button('Demo: Bob').click({ timeout: TIMEOUT });
      await poll(async () => (await app.identity())?.includes('bob@'), { what: 'the demo account Bob', timeout: TIMEOUT });
      await app.clickAndSettle('Check');
      const bob = await app.verdicts();
      for (const [topic, verdict] of Object.entries(bob)) assert(['Ready', 'Not ready', 'Unknown'].includes(verdict), `Bob's ${topic}: ${verdict}`);
      await app.clickAndSettle('Re-check');
      assertEqual(await app.verdicts(), bob, 'Re-check gives the same verdicts');
      for (const f of WORKER_FILES) assertEqual(count(f), 1, `${f} fetches`);
      return `Bob: ${JSON.stringify(bob)}`;
    });

    runner.test('Check all in demo mode: many calls in flight at once, each answered by its own reply', async () => {
      await app.button('Demo: Alice').click({ timeout: TIMEOUT });
      await poll(async () => (await app.identity())?.includes('alice@'), { what: 'the demo account Alice', timeout: TIMEOUT });
      const projects = ['skypilot-seed-demo', 'ml-team-demo', 'not-a-demo-project-1'];
      const area = page.getByLabel('Projects to check', { exact: true });
      await area.fill(projects.join('\n'));
      await app.button('Check all').click({ timeout: TIMEOUT });
      await poll(async () => (await app.textOfTestId('sweep-progress'))?.startsWith('3 of 3 done'), { timeout: TIMEOUT, interval: 100, what: 'the demo sweep to finish' });
      const rows = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('[data-testid="sweep-table"] tbody tr')]
        .map((tr) => [tr.dataset.project, Object.fromEntries([...tr.querySelectorAll('td[data-topic]')].map((td) => [td.dataset.topic, td.innerText.trim()]))])));
      assertEqual(Object.keys(rows).sort(), [...projects].sort(), 'one row per project');
      // The seed story, as the single check gave it; a project the demo does not know is Unknown.
      assert(/missing/.test(rows['skypilot-seed-demo'].compute), `seed Compute: ${rows['skypilot-seed-demo'].compute}`);
      assertEqual(rows['skypilot-seed-demo'].storage, 'Ready', 'seed Storage');
      assertEqual(rows['not-a-demo-project-1'].compute, 'Unknown', 'a project the demo does not know');
      for (const f of WORKER_FILES) assertEqual(count(f), 1, `${f} fetches`);
      assertEqual(pageRequestsAtGoogle().length, 0, 'page requests at Google in demo mode');
      return JSON.stringify(rows);
    });

    runner.test('a demo worker whose wasm cannot load is an error on the page, never a verdict', async () => {
      await browser.context.route('**/demo_worker_bg.wasm', (route) => route.fulfill({ status: 404, body: 'gone' }));
      try {
        await app.reload();
        await app.button('Try the demo').click({ timeout: TIMEOUT });
        // Said as what it is (nothing was asked), not as a network failure of the user's.
        const failure = /Not asked: the demo's simulated Google did not start/;
        await poll(async () => failure.test(await page.locator('main').innerText()), { what: 'the demo worker failure on the page', timeout: TIMEOUT });
        const identityLine = (await page.locator('main').innerText()).split('\n').find((l) => failure.test(l));
        assert(!/Could not reach Google|connection/.test(identityLine), `said as a network failure: ${identityLine}`);
        await app.clickAndSettle('Check');
        const verdicts = await app.verdicts();
        for (const [topic, verdict] of Object.entries(verdicts)) {
          assert(verdict === null || verdict === 'Unknown', `${topic} shows "${verdict}" while the simulation never answered`);
        }
        return `${identityLine} | after Check: ${JSON.stringify(verdicts)}`;
      } finally {
        await browser.context.unroute('**/demo_worker_bg.wasm');
      }
    });

    runner.test('nothing broke the Content Security Policy, no page errors', async () => {
      assertEqual(cspComplaints, [], 'CSP console messages');
      assertEqual(pageErrors, [], 'page errors');
    });

    return runner.run();
  });
  process.exit(failed ? 1 : 0);
}

main().catch((err) => { console.error(err); process.exit(1); });
