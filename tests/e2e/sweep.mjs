// Warm-up and "Check all" (issue 14), in a real Chromium against the release bundle and the fake Google.
//
//   DIST_DIR=$PWD/dist node tests/e2e/sweep.mjs      (SCREENSHOT_DIR=dir keeps the matrix screenshot)
//
// Prints `ok - name` / `not ok - name` and `N passed, N failed`; exits 1 on failure.

import path from 'node:path';
import os from 'node:os';
import { withEnvironment, createRunner, assert, assertEqual, poll, distDir } from './harness.mjs';
import { AppPage } from './app-page.mjs';
import { world, TOKENS, ACCOUNTS, SEED_MISSING, ENABLED } from './world.mjs';
import { TESTABLE_ON_PROJECT } from './fake-google.mjs';

const { alice } = ACCOUNTS;
const CRM = 'cloudresourcemanager.googleapis.com';
const TIMEOUT = 120_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const bearer = (reqs) => reqs.filter((r) => !r.isPreflight && r.host !== 'oauth2.googleapis.com');

const id = (prefix, i) => `${prefix}-${String(i).padStart(2, '0')}`;
/** 50 projects for the sweep; some fail, each in its own way. */
const SWEEP = Array.from({ length: 50 }, (_, i) => id('sweep', i));
const HIDDEN = 'sweep-03'; //    alice cannot see it: 403 everywhere
const API_OFF = 'sweep-07'; //   Compute Engine API off, and alice may not enable it (nor list networks)
const LIMITED = 'sweep-11'; //   every request answers 429
const CRM_OFF = 'sweep-19'; //   Resource Manager answers SERVICE_DISABLED about it
const SEEDLIKE = 'sweep-23'; //  the firewall pair missing
// More projects than run at once (50), so Cancel finds some not yet started.
const CANCEL = Array.from({ length: 80 }, (_, i) => id('sweepc', i));

function scenario() {
  const w = world();
  const add = (name, i, grants, off = []) => {
    w.projects[name] = {
      number: String(520000000000 + i),
      grants: { [alice.sub]: grants },
      enabledServices: ENABLED.filter((s) => !off.includes(s)),
    };
  };
  SWEEP.forEach((name, i) => {
    if (name === HIDDEN) return;
    if (name === API_OFF) {
      add(name, i, TESTABLE_ON_PROJECT.filter((p) => p !== 'serviceusage.services.enable'), ['compute.googleapis.com']);
    } else if (name === SEEDLIKE) {
      add(name, i, TESTABLE_ON_PROJECT.filter((p) => !SEED_MISSING.includes(p)));
    } else {
      add(name, i, ['*']);
    }
  });
  CANCEL.forEach((name, i) => add(name, 100 + i, ['*']));
  w.projects['warm-up-1'] = { number: '520000000999', grants: { [alice.sub]: ['*'] }, enabledServices: [...ENABLED] };
  w.faults = [
    { type: 'http429', target: LIMITED, times: Infinity },
    { type: 'serviceDisabled', host: CRM, target: CRM_OFF, times: Infinity },
  ];
  return w;
}

async function matrix(page) {
  return page.evaluate(() => {
    const table = document.querySelector('[data-testid="sweep-table"]');
    if (!table) return null;
    const header = [...table.querySelectorAll('thead th')].map((th) => th.innerText.replace(/[▲▼]/g, '').trim());
    const rows = {};
    const order = [];
    for (const tr of table.querySelectorAll('tbody tr')) {
      const cells = {};
      for (const td of tr.querySelectorAll('td[data-topic]')) cells[td.dataset.topic] = td.innerText.trim();
      const problem = tr.querySelector('td.problem')?.innerText.trim() || '';
      const pending = tr.classList.contains('pending') ? tr.querySelector('td')?.innerText.trim() : null;
      rows[tr.dataset.project] = { cells, problem, pending };
      order.push(tr.dataset.project);
    }
    return { header, rows, order };
  });
}

const progress = (app) => app.textOfTestId('sweep-progress');

async function fillProjects(app, ids) {
  const area = app.page.getByLabel('Projects to check', { exact: true });
  await area.fill(ids.join('\n'), { timeout: 60_000 });
  await poll(async () => (await area.inputValue()) === ids.join('\n'), { what: 'the project list to hold the text' });
}

async function main() {
  let failures = 0;
  await withEnvironment(distDir(), async ({ site, fake, browser }) => {
    fake.setScenario(scenario());
    const app = new AppPage(browser.page);
    const runner = createRunner({
      onFailure: async (name) => {
        const file = path.join(os.tmpdir(), `sweep-failure-${name.replace(/\W+/g, '-').slice(0, 60)}.png`);
        await browser.page.screenshot({ path: file, fullPage: true }).catch(() => {});
        console.log(`  # screenshot: ${file}`);
      },
    });
    await app.open(site.url);
    await app.enterToken(TOKENS.alice);
    await app.waitForIdentity(alice.email);

    runner.test('warm-up: sent once per URL and token before Check; Check then needs no preflight', async () => {
      const project = 'warm-up-1';
      const mark = fake.mark();
      await app.enterProject(project);
      // The project's testIamPermissions with one permission goes out without Check being pressed.
      await poll(() => fake.requestsSince(mark).some((r) => !r.isPreflight && r.host === CRM && r.target === project
        && (r.permissions || []).length === 1), { timeout: 15_000, what: 'the warm-up testIamPermissions' });
      await sleep(1_500);
      await fake.settled();
      const warm = bearer(fake.requestsSince(mark));
      const urls = warm.map((r) => `${r.method} ${r.host}${r.path}`);
      assertEqual(new Set(urls).size, urls.length, 'one warm-up request per URL');
      assert(warm.length >= 5, `the plan's look-ups are warmed too (${urls.join(', ')})`);
      assertEqual(await app.verdicts(), { compute: null, storage: null, managedJobs: null }, 'no verdict from a warm-up');
      // Leaving and coming back sends nothing again for this token.
      const again = fake.mark();
      await app.enterProject('warm-up-elsewhere');
      // Another project, no Check in between: it gets its own warm-up.
      await poll(() => fake.requestsSince(again).some((r) => !r.isPreflight && r.target === 'warm-up-elsewhere'),
        { timeout: 15_000, what: 'the warm-up of the next project typed' });
      await sleep(800);
      await app.enterProject(project);
      await sleep(1_500);
      await fake.settled();
      const repeat = fake.requestsSince(again).filter((r) => r.target === project && !r.isPreflight);
      assertEqual(repeat.length, 0, 'no second warm-up for the same URLs and token');
      // Check: every preflight already paid.
      const click = fake.mark();
      await app.clickAndSettle('Check');
      const reqs = fake.requestsSince(click);
      assertEqual(reqs.filter((r) => r.isPreflight).length, 0, 'preflights after the warm-up');
      assert(bearer(reqs).length >= 5, 'the check itself was sent');
      const v = await app.verdicts();
      assertEqual(v, { compute: 'Ready', storage: 'Ready', managedJobs: 'Ready' }, 'verdicts');
      return `${warm.length} warm-up requests, then Check with 0 preflights`;
    });

    runner.test('an invisible project is named before Check is pressed', async () => {
      const mark = fake.mark();
      await app.enterProject('nobody-sees-this-1');
      await poll(async () => (await app.textOfTestId('project-visibility'))?.includes('nobody-sees-this-1'),
        { timeout: 15_000, what: 'the early project message' });
      const text = await app.textOfTestId('project-visibility');
      assert(text.includes('does not exist, or this account cannot see it'), text);
      assertEqual(await app.verdicts(), { compute: null, storage: null, managedJobs: null }, 'no verdict yet');
      const probes = bearer(fake.requestsSince(mark)).filter((r) => r.host === CRM && r.target === 'nobody-sees-this-1'
        && r.path.endsWith(':testIamPermissions'));
      assertEqual(probes.length, 1, 'one warm-up testIamPermissions');
      // A visible project clears it.
      await app.enterProject('warm-up-1');
      await poll(async () => (await app.textOfTestId('project-visibility')) === null, { what: 'the message to go' });
    });

    runner.test('"Add all visible projects" puts every project the picker listed into the list', async () => {
      const sc = scenario();
      const expected = Object.entries(sc.projects)
        // What projects.search answers: visible, ACTIVE, and resourcemanager.projects.get held.
        .filter(([, p]) => (p.visibleTo || Object.keys(p.grants || {})).includes(alice.sub) && (p.state || 'ACTIVE') === 'ACTIVE')
        .filter(([, p]) => ((p.grants || {})[alice.sub] || []).some((g) => g === '*' || g === 'resourcemanager.projects.get'))
        .map(([id]) => id)
        .sort();
      const button = app.page.getByRole('button', { name: /^Add all visible projects \(\d+\)$/ });
      await poll(async () => (await button.count()) === 1, { timeout: TIMEOUT, what: 'the projects.search listing' });
      assertEqual(await button.textContent(), `Add all visible projects (${expected.length})`, 'the count on the button');
      await button.click();
      const area = app.page.getByLabel('Projects to check', { exact: true });
      const listed = (await area.inputValue()).split('\n').filter(Boolean).sort();
      assertEqual(listed, expected, 'the projects put into the list');
      assert(!listed.includes(HIDDEN), 'a project alice cannot see is not listed');
      await area.fill('');
      return `${listed.length} projects`;
    });

    runner.test('Check all: 50 projects, each failure shown as what it is, the others unhidden', async () => {
      await fillProjects(app, SWEEP);
      await poll(async () => (await app.textOfTestId('sweep-estimate'))?.includes('50 projects'), { what: 'the estimate' });
      const estimate = await app.textOfTestId('sweep-estimate');
      assert(/50 to check with 350 requests/.test(estimate), estimate);
      const mark = fake.mark();
      const t0 = Date.now();
      await app.button('Check all').click();
      await poll(async () => (await progress(app))?.startsWith('50 of 50 done'), { timeout: TIMEOUT, interval: 200, what: 'the sweep to finish' });
      const wallMs = Date.now() - t0;
      const m = await matrix(app.page);
      for (const h of ['Project', 'Compute', 'Storage', 'Managed jobs', 'First launch']) {
        assert(m.header.includes(h), `header ${h}: ${m.header}`);
      }
      assertEqual(Object.keys(m.rows).length, 50, 'one row per project');
      assertEqual(m.rows[HIDDEN].cells.compute, 'Unknown', 'hidden project');
      assert(/permission/i.test(m.rows[HIDDEN].problem), m.rows[HIDDEN].problem);
      // frank-like: no serviceusage.services.enable, so the API that is off blocks (and Compute
      // Engine's own networks.list says so for the first launch).
      assertEqual(m.rows[API_OFF].cells.compute, '1 missing, API off', 'API off');
      assert(/compute.googleapis.com/.test(m.rows[API_OFF].problem), m.rows[API_OFF].problem);
      assertEqual(m.rows[LIMITED].cells.compute, 'Unknown', 'rate-limited');
      assert(/rate|quota/i.test(m.rows[LIMITED].problem), m.rows[LIMITED].problem);
      assertEqual(m.rows[CRM_OFF].cells.compute, 'Unknown', 'CRM off');
      assert(/Resource Manager|cloudresourcemanager|disabled/i.test(m.rows[CRM_OFF].problem), m.rows[CRM_OFF].problem);
      assertEqual(m.rows[SEEDLIKE].cells.compute, `${SEED_MISSING.length} missing`, 'seed-like');
      assertEqual(m.rows[SEEDLIKE].cells.storage, 'Ready', 'seed-like storage');
      const odd = new Set([HIDDEN, API_OFF, LIMITED, CRM_OFF, SEEDLIKE]);
      for (const p of SWEEP.filter((x) => !odd.has(x))) {
        const c = m.rows[p].cells;
        assert(c.compute === 'Ready' && c.storage === 'Ready' && c['managed-jobs'] === 'Ready', `${p}: ${JSON.stringify(m.rows[p])}`);
      }
      assertEqual(await app.textOfTestId('sweep-summary'), '45 ready everywhere, 5 not ready or unknown (4 with request errors).', 'summary');
      // The rate-limited project was asked again after a pause, not dropped.
      const limited = bearer(fake.requestsSince(mark)).filter((r) => r.target === LIMITED && r.path.endsWith(':testIamPermissions'));
      assert(limited.length > 4, `429s retried then re-asked after a pause (${limited.length})`);
      // Screenshot of the matrix.
      const dir = process.env.SCREENSHOT_DIR || os.tmpdir();
      const shot = path.join(dir, 'sweep-matrix.png');
      await app.page.getByTestId('sweep-table').scrollIntoViewIfNeeded();
      await app.page.locator('section.sweep').screenshot({ path: shot });
      return `wall ${wallMs} ms; screenshot ${shot}`;
    });

    runner.test('the matrix sorts, filters, and opens a row into its full result', async () => {
      await app.page.locator('section.sweep thead').getByRole('button', { name: 'Compute', exact: true }).click();
      await poll(async () => {
        const m = await matrix(app.page);
        return m.rows[m.order[0]].cells.compute === 'Unknown';
      }, { what: 'worst first' });
      await app.page.getByLabel('Show', { exact: true }).selectOption('failed');
      await poll(async () => Object.keys((await matrix(app.page)).rows).length === 4, { what: 'four rows with errors' });
      const failed = Object.keys((await matrix(app.page)).rows).sort();
      assertEqual(failed, [HIDDEN, API_OFF, LIMITED, CRM_OFF].sort(), 'rows with errors');
      await app.page.getByLabel('Show', { exact: true }).selectOption('all');
      await app.page.getByLabel('Filter projects', { exact: true }).fill(SEEDLIKE);
      await poll(async () => Object.keys((await matrix(app.page)).rows).length === 1, { what: 'one row' });
      await app.page.locator(`tr[data-project="${SEEDLIKE}"]`).getByRole('button', { name: SEEDLIKE }).click();
      await poll(async () => (await app.verdicts()).compute === 'Not ready', { what: 'the full result' });
      assertEqual(await app.projectInput().inputValue(), SEEDLIKE, 'the form shows the row\'s project');
      const text = await app.resultsText();
      for (const p of SEED_MISSING) assert(text.includes(p), `${p} in the full result`);
      await app.page.getByLabel('Filter projects', { exact: true }).fill('');
    });

    runner.test('Check all again: fresh rows come from the cache, only failed ones are asked', async () => {
      const mark = fake.mark();
      await poll(async () => (await app.textOfTestId('sweep-estimate'))?.includes('from the cache'), { what: 'estimate' });
      const estimate = await app.textOfTestId('sweep-estimate');
      assert(estimate.includes('46 from the cache, 4 to check'), estimate);
      await app.button('Check all').click();
      await poll(async () => (await progress(app))?.startsWith('50 of 50 done'), { timeout: TIMEOUT, interval: 200, what: 'the sweep to finish' });
      const asked = new Set(bearer(fake.requestsSince(mark)).map((r) => r.target).filter((t) => SWEEP.includes(t)));
      assertEqual([...asked].sort(), [HIDDEN, API_OFF, LIMITED, CRM_OFF].sort(), 'projects asked again (those with an error)');
      assertEqual(Object.keys((await matrix(app.page)).rows).length, 50, 'rows');
    });

    runner.test('Cancel stops new requests, and every row ends', async () => {
      await app.page.getByLabel('Show', { exact: true }).selectOption('all');
      await app.page.getByLabel('Filter projects', { exact: true }).fill('');
      // Slow enough that Cancel lands while the first projects' requests are out.
      fake.setLatency(1500);
      try {
        await fillProjects(app, CANCEL);
        await poll(async () => (await app.textOfTestId('sweep-estimate'))?.includes('80 to check'), { what: 'estimate' });
        const mark = fake.mark();
        await app.button('Check all').click();
        await poll(() => fake.requestsSince(mark).length > 0, { timeout: 30_000, what: 'the first requests' });
        await app.button('Cancel').click();
        const cancelledAt = fake.now();
        await sleep(3_000);
        const late = fake.requestsSince(mark).filter((r) => r.startMs > cancelledAt + 150);
        assertEqual(late.map((r) => `${r.method} ${r.host}${r.path}`), [], 'requests (preflights included) started after Cancel');
        await poll(async () => (await progress(app))?.startsWith('80 of 80 done'), { timeout: 30_000, what: 'every row ended' });
        const m = await matrix(app.page);
        const cancelled = Object.values(m.rows).filter((r) => r.pending === 'Cancelled').length;
        assert(cancelled >= 20, `${cancelled} rows cancelled`);
        assertEqual(await app.button('Cancel').isDisabled(), true, 'Cancel disabled when nothing runs');
        return `${cancelled} of 80 rows cancelled`;
      } finally {
        fake.setLatency(0);
      }
    });

    runner.test('nothing broke the rules: no token outside Google hosts, no violations', async () => {
      assertEqual(fake.violations(), [], 'violations');
      const dump = await app.storageDump();
      assert(!JSON.stringify(dump).includes(TOKENS.alice), 'the token is in storage');
    });

    failures = await runner.run();
  });
  process.exit(failures ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
