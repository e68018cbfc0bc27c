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
//             tokeninfo here means the app does not reuse the one already in flight).
// Not a test: it exits non-zero only if a check never produced verdicts.

import fs from 'node:fs';
import { criticalPath, busyPeriods } from './fake-google.mjs';
import { withEnvironment, distDir } from './harness.mjs';
import { AppPage } from './app-page.mjs';
import { world, TOKENS, ACCOUNTS } from './world.mjs';

const L = Number(process.env.L ?? process.env.LATENCY_MS ?? 300);
const PROJECT = process.env.BENCH_PROJECT || 'bench-cold-5';

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
    criticalPath: cp.chain,
    requestList: reqs.map((r) => `${r.isPreflight ? 'OPTIONS' : r.method} ${r.host}${r.path} -> ${r.status}`),
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
