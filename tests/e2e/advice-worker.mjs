// The fix advice comes from a web worker of its own (src/bin/advice_worker.rs), which fetches the
// role data itself: the first load (page open, token entered, an all-Ready check) fetches neither
// the worker nor any role data; a not-ready card then starts the worker once, the worker fetches
// roles/skypilot.json once, and the card shows the roles, the commands and the data's date. A
// role file that cannot be fetched, or a worker whose wasm cannot load, is one line of error in
// the card, never a verdict.
//
//   trunk build --release && node tests/e2e/advice-worker.mjs   (DIST_DIR as for run.mjs)

import os from 'node:os';
import path from 'node:path';
import { assert, assertEqual, poll, distDir, withEnvironment, watchWorkerSuite } from './harness.mjs';
import { AppPage } from './app-page.mjs';
import { world, TOKENS, ACCOUNTS } from './world.mjs';

const WORKER_FILES = ['advice_worker_loader.js', 'advice_worker.js', 'advice_worker_bg.wasm'];
const TIMEOUT = 30_000;

async function main() {
  const failed = await withEnvironment(distDir(), async ({ site, fake, browser }) => {
    fake.setScenario(world());
    const app = new AppPage(browser.page);
    const page = browser.page;
    const { runner, fetched, count, cspComplaints, pageErrors } = watchWorkerSuite(browser, 'advice-worker');
    const roleFetches = () => fetched.filter((f) => f.includes('/roles/'));

    const adviceOf = (key) => page.locator(`article:has([data-testid="verdict-${key}"]) [data-testid="advice"]`);

    runner.test('first load: page open, token entered, an all-Ready check fetch no advice worker and no role data', async () => {
      await app.open(site.url);
      await app.enterToken(TOKENS.alice);
      await app.waitForIdentity(ACCOUNTS.alice.email);
      await app.enterProject('demo-full-2');
      await app.clickAndSettle('Check');
      assert(fetched.some((f) => f.endsWith('_bg.wasm')), `the app's own wasm was fetched: ${fetched}`);
      for (const f of WORKER_FILES) assertEqual(count(f), 0, `${f} fetches before any not-ready card`);
      assertEqual(roleFetches(), [], 'role data fetched before any not-ready card');
      assertEqual(await page.locator('[data-testid="advice"]').count(), 0, 'advice shown for an all-Ready result');
    });

    runner.test('a not-ready card starts the worker once; it fetches the small role file once and the card shows the advice', async () => {
      await app.enterProject('demo-seed-1');
      await app.clickAndSettle('Check');
      await poll(async () => (await app.card('compute'))?.roles.length > 0, { what: 'roles suggested in the Compute card', timeout: TIMEOUT });
      const compute = await app.card('compute');
      assertEqual(compute.status, 'Not ready', 'Compute verdict');
      assertEqual(compute.roles, ['roles/compute.securityAdmin'], 'roles suggested for the firewall pair');
      assert(compute.commands.includes(`gcloud projects add-iam-policy-binding demo-seed-1 --member=user:${ACCOUNTS.alice.email} --role=roles/compute.securityAdmin`),
        `the grant command: ${JSON.stringify(compute.commands)}`);
      const citation = await adviceOf('compute').locator('.citation').innerText();
      assert(/^Role data: Google's predefined roles as of \d{4}-\d{2}-\d{2} \(.+\)$/.test(citation), `the data date line: ${citation}`);
      // Every not-ready card got its advice from the same worker and the same download.
      await poll(async () => (await page.locator('[data-testid="advice"] [data-testid="suggested-role"]').count()) >= 2, { what: 'a second card\'s advice', timeout: TIMEOUT });
      await page.locator('article:has([data-testid="verdict-compute"])').screenshot({ path: path.join(os.tmpdir(), 'advice-worker-card.png') });
      await app.clickAndSettle('Re-check');
      await poll(async () => (await app.card('compute'))?.roles.length > 0, { what: 'roles after Re-check', timeout: TIMEOUT });
      for (const f of WORKER_FILES) assertEqual(count(f), 1, `${f} fetches`);
      assertEqual(roleFetches(), ['/roles/skypilot.json'], 'role data requests (once per page, only the small index)');
      return `${fetched.length} requests in all`;
    });

    // With `pattern` answered by `status`, a fresh page's Not ready check: the Compute card shows
    // `expected` as its one error line, and its verdict stays what the check said.
    async function failingAdvice(pattern, status, expected) {
      await browser.context.route(pattern, (route) => route.fulfill({ status, body: 'unavailable' }));
      try {
        await app.reload();
        await app.enterToken(TOKENS.alice);
        await app.waitForIdentity(ACCOUNTS.alice.email);
        await app.enterProject('demo-seed-1');
        await app.clickAndSettle('Check');
        const error = adviceOf('compute').locator('[role="alert"]');
        await poll(async () => (await error.count()) === 1, { what: 'the error line in the Compute card', timeout: TIMEOUT });
        assertEqual(await error.innerText(), expected, 'the error line');
        assertEqual((await app.card('compute')).status, 'Not ready', 'the verdict stays what the check said');
        assertEqual(await adviceOf('compute').getByTestId('suggested-role').count(), 0, 'roles shown without role data');
      } finally {
        await browser.context.unroute(pattern);
      }
    }

    runner.test('a role file that cannot be fetched is one line of error in the card, not a verdict', () =>
      failingAdvice('**/roles/skypilot.json', 503, 'Could not load the role data (roles/skypilot.json): HTTP 503'));

    runner.test('an advice worker whose wasm cannot load is one line of error in the card, not a wait for ever', () =>
      failingAdvice('**/advice_worker_bg.wasm', 404, 'Could not load the role data: the advice worker did not start.'));

    runner.test('nothing broke the Content Security Policy, no page errors', async () => {
      assertEqual(cspComplaints, [], 'CSP console messages');
      assertEqual(pageErrors, [], 'page errors');
    });

    return runner.run();
  });
  process.exit(failed ? 1 : 0);
}

main().catch((err) => { console.error(err); process.exit(1); });
