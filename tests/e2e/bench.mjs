// The benchmark: how many requests and sequential round trips a check costs, and how long it
// takes when every request (preflights included) costs L ms.
//
//   cd tests/e2e && npm ci && L=300 node bench.mjs          (DIST_DIR as for run.mjs)
//   BENCH_JSON=out.json also writes the JSON to a file.
//
// Measures, in one fresh browser profile:
//   cold      one full check of a project never checked before (token already identified, as
//             after a person pastes it and types the project): requests, preflights, sequential
//             round trips on the critical path, wall time click -> verdicts, wall time / L;
//   repeat    the same check again within the TTL in the same page (goal: 0 requests);
//   recheck   "Re-check" of the same project (shows what Chromium's preflight cache saves);
//   reload    reload the page, paste the same token, type the same project and press Check at
//             once, without waiting for the identity line (goal: tokeninfo only; a second
//             tokeninfo here means the app does not reuse the one already in flight);
//   bulk      "SkyPilot profiles" unticked and 1,000 custom permissions (goal: 10 testIamPermissions
//             POSTs of <= 100 in one wave, i.e. sent together);
//   full      "SkyPilot docs" with a bucket and a service account named, on a project never
//             checked before (goal: wall time <= 1.3 x L per round trip on the critical path).
// Not a test: it exits non-zero only if a check never produced verdicts.

import fs from 'node:fs';
import { criticalPath, busyPeriods } from './fake-google.mjs';
import { withEnvironment, distDir } from './harness.mjs';
import { AppPage } from './app-page.mjs';
import { world, TOKENS, ACCOUNTS, BULK, saEmail } from './world.mjs';

const L = Number(process.env.L ?? process.env.LATENCY_MS ?? 300);
const PROJECT = process.env.BENCH_PROJECT || 'bench-cold-5';
const BULK_PROJECT = 'bench-bulk-6';
const FULL_PROJECT = 'bench-docs-7';
const FULL_BUCKET = 'bench-docs-7-jobs';
const CRM_HOST = 'cloudresourcemanager.googleapis.com';
/** Goal for the full check: wall time per round trip on the critical path, in units of L. */
const WALL_PER_ROUND_TRIP_GOAL = 1.3;

function summarize(label, reqs, timing) {
  const cp = criticalPath(reqs);
  const wall = timing ? timing.clickToDoneMs : null;
  return {
    phase: label,
    requests: reqs.length,
    preflights: reqs.filter((r) => r.isPreflight).length,
    roundTrips: cp.depth,
    busyPeriods: busyPeriods(reqs).length,
    wallMs: wall === null ? null : Math.round(wall),
    wallOverL: wall === null || L === 0 ? null : Math.round((wall / L) * 100) / 100,
    wallPerRoundTripOverL: wall === null || L === 0 || cp.depth === 0 ? null : Math.round((wall / L / cp.depth) * 100) / 100,
    criticalPath: cp.chain,
    requestList: reqs.map((r) => `${r.isPreflight ? 'OPTIONS' : r.method} ${r.host}${r.path} -> ${r.status}`),
  };
}

/** The testIamPermissions POSTs of a phase: how many, the largest, and how many waves they form. */
function postStats(reqs) {
  const posts = reqs.filter((r) => !r.isPreflight && r.host === CRM_HOST && r.method === 'POST');
  return {
    testIamPermissionsPosts: posts.length,
    maxPermissionsPerPost: Math.max(0, ...posts.map((r) => (r.permissions || []).length)),
    postWaves: busyPeriods(posts).length,
    // all POSTs in flight at one moment: the last one started before the first one was answered
    postsInOneWave: posts.length > 0 && Math.max(...posts.map((r) => r.startMs)) < Math.min(...posts.map((r) => r.endMs)),
  };
}

async function measure(fake, fn) {
  const mark = fake.mark();
  const timing = await fn();
  await fake.settled();
  return { reqs: fake.requestsSince(mark), timing };
}

async function main() {
  const rows = [];
  let sane = true;
  await withEnvironment(distDir(), async ({ site, fake, browser }) => {
    fake.setScenario(world());
    fake.setLatency(L);
    const app = new AppPage(browser.page);
    await app.open(site.url);
    const ident = await measure(fake, async () => {
      await app.enterToken(TOKENS.alice);
      await app.waitForIdentity(ACCOUNTS.alice.email);
      await app.enterProject(PROJECT);
      return null;
    });
    rows.push(summarize('identify (paste token)', ident.reqs, null));

    const phases = [
      ['cold check', () => app.clickAndSettle('Check')],
      ['repeat within TTL', () => app.clickAndSettle('Check')],
      ['Re-check (warm preflights)', () => app.clickAndSettle('Re-check')],
      ['reload + same token + Check', async () => {
        await app.reload();
        await app.enterToken(TOKENS.alice);
        await app.enterProject(PROJECT);
        return app.clickAndSettle('Check');
      }],
    ];
    for (const [label, fn] of phases) {
      const { reqs, timing } = await measure(fake, fn);
      const v = await app.verdicts();
      if (!Object.values(v).every((x) => ['Ready', 'Not ready', 'Unknown'].includes(x))) {
        sane = false;
        console.error(`${label}: no verdicts (${JSON.stringify(v)})`);
      }
      rows.push({ ...summarize(label, reqs, timing), verdicts: v });
    }

    // The form is set (and the token identified) before each measurement: only Check is timed.
    const extraPhases = [
      {
        label: '1,000-permission custom list',
        project: BULK_PROJECT,
        form: { options: { skypilotProfiles: false }, custom: BULK.join('\n') },
        stats: (reqs) => ({ ...postStats(reqs), goal: '10 testIamPermissions POSTs of <= 100, in one wave' }),
      },
      {
        label: 'full check with bucket and service account (docs)',
        project: FULL_PROJECT,
        form: { mode: 'docs', bucket: FULL_BUCKET, serviceAccount: saEmail(FULL_PROJECT) },
        stats: () => ({ goal: `wall <= ${WALL_PER_ROUND_TRIP_GOAL} x L per round trip on the critical path` }),
      },
    ];
    fake.patchScenario((sc) => { sc.extraTestable = [...BULK]; });
    for (const phase of extraPhases) {
      fake.setLatency(0); // setting up the form is not measured
      await app.waitForIdentity(ACCOUNTS.alice.email);
      await app.enterProject(phase.project);
      await app.setForm(phase.form);
      fake.setLatency(L);
      const { reqs, timing } = await measure(fake, () => app.clickAndSettle('Check'));
      const v = await app.allVerdicts();
      const shown = Object.values(v).filter((x) => x !== null);
      if (shown.length === 0 || !shown.every((x) => ['Ready', 'Not ready', 'Unknown'].includes(x))) {
        sane = false;
        console.error(`${phase.label}: no verdicts (${JSON.stringify(v)})`);
      }
      rows.push({ ...summarize(phase.label, reqs, timing), ...phase.stats(reqs), verdicts: v });
    }
    if (fake.violations().length) {
      sane = false;
      console.error('violations:', JSON.stringify(fake.violations()));
    }
  });

  const head = ['phase', 'requests', 'preflights', 'round trips', 'wall ms', 'wall / L'];
  const table = rows.map((r) => [r.phase, r.requests, r.preflights, r.roundTrips, r.wallMs ?? '-', r.wallOverL ?? '-'].map(String));
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log(`gcp-preflight benchmark: injected latency L = ${L} ms per request (preflights included), project ${PROJECT}`);
  console.log(line(head));
  console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const row of table) console.log(line(row));
  const cold = rows.find((r) => r.phase === 'cold check');
  if (cold) console.log(`cold critical path: ${cold.criticalPath.join('  ->  ')}`);
  const bulk = rows.find((r) => r.phase.startsWith('1,000'));
  if (bulk) {
    const met = bulk.testIamPermissionsPosts === 10 && bulk.maxPermissionsPerPost <= 100 && bulk.postsInOneWave;
    console.log(`1,000-permission list: ${bulk.testIamPermissionsPosts} testIamPermissions POSTs, at most ${bulk.maxPermissionsPerPost} permissions each, `
      + `${bulk.postsInOneWave ? 'in one wave' : `in ${bulk.postWaves} waves`} (goal: ${bulk.goal}) -> ${met ? 'met' : 'NOT met'}`);
  }
  const full = rows.find((r) => r.phase.startsWith('full check'));
  if (full) {
    const met = full.wallPerRoundTripOverL !== null && full.wallPerRoundTripOverL <= WALL_PER_ROUND_TRIP_GOAL;
    console.log(`full check: ${full.roundTrips} round trips, wall ${full.wallMs} ms = ${full.wallPerRoundTripOverL} x L per round trip `
      + `(goal <= ${WALL_PER_ROUND_TRIP_GOAL}) -> ${met ? 'met' : 'NOT met'}; critical path: ${full.criticalPath.join('  ->  ')}`);
  }
  const json = { latencyMs: L, project: PROJECT, phases: rows };
  console.log('JSON:');
  console.log(JSON.stringify(json, null, 2));
  if (process.env.BENCH_JSON) fs.writeFileSync(process.env.BENCH_JSON, `${JSON.stringify(json, null, 2)}\n`);
  process.exit(sane ? 0 : 1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
