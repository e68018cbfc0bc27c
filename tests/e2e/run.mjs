// The end-to-end suite: the built app (DIST_DIR, default /work/main/dist from `trunk build
// --release`) in a real Chromium, every Google call answered by the fake Google.
//
//   cd tests/e2e && npm ci && node run.mjs
//
// Prints `ok - name` / `not ok - name` per scenario and `N passed, N failed`; exits 1 on failure.
// Screenshots of failed scenarios go to tests/e2e/artifacts/.

import fs from 'node:fs';
import path from 'node:path';
import { BEARER_HOSTS, CONSUMER_PROJECT } from './fake-google.mjs';
import { withEnvironment, createRunner, assert, assertEqual, poll, distDir, HERE } from './harness.mjs';
import { AppPage } from './app-page.mjs';
import { world, TOKENS, ACCOUNTS, SEED_MISSING } from './world.mjs';

const { alice, bob, carol, dave } = ACCOUNTS;
const SEED = { compute: 'Not ready', storage: 'Ready', managedJobs: 'Not ready' };
const ALL_READY = { compute: 'Ready', storage: 'Ready', managedJobs: 'Ready' };
const ALL_UNKNOWN = { compute: 'Unknown', storage: 'Unknown', managedJobs: 'Unknown' };

// Each step: optional `reload`, `token` (+ `as` whose email must show as identity, or
// `identity: false` when tokeninfo refuses it, `waitIdentity: false` to press Check before it
// answers), `latency` (ms added to every fake answer during the step), `project`, `beforeClick(fake)`, `button` (or
// `click: 'if-enabled'`), `after(fake)`, and `expect`:
//   verdicts: exact values (a key left out is not checked); missing: <code> texts that must show;
//   age: 'fresh' | 'cached'; requests: 'none' | 'fresh' | 'tokeninfo-only' | 'no-bearer';
//   alert: substrings of one alert; noDefiniteVerdict: no verdict may read Ready / Not ready.
const STEPS = [
  {
    name: 'cold check: alice on demo-seed-1 (seed story)',
    token: TOKENS.alice, as: alice, project: 'demo-seed-1',
    expect: { verdicts: SEED, missing: SEED_MISSING, age: 'fresh', requests: 'fresh' },
  },
  {
    name: 'same check again is served from the cache: no request at all',
    expect: { verdicts: SEED, missing: SEED_MISSING, age: 'cached', requests: 'none' },
  },
  {
    name: 'Re-check asks Google again',
    button: 'Re-check',
    expect: { verdicts: SEED, age: 'fresh', requests: 'fresh' },
  },
  {
    name: 'project switch: demo-full-2 is checked fresh, all Ready',
    project: 'demo-full-2',
    expect: { verdicts: ALL_READY, age: 'fresh', requests: 'fresh' },
  },
  {
    name: "account switch: bob on demo-seed-1 is checked fresh, not alice's cached answer",
    token: TOKENS.bob, as: bob, project: 'demo-seed-1',
    expect: { verdicts: { compute: 'Ready' }, age: 'fresh', requests: 'fresh' },
  },
  {
    name: 'expired token (tokeninfo refuses it): an alert says expired, no verdict',
    token: TOKENS.carol, as: carol, identity: false, project: 'demo-full-2', click: 'if-enabled',
    expect: { alert: ['expired'], noDefiniteVerdict: true, requests: 'no-bearer' },
  },
  {
    name: 'token expires between paste and Check (401 ACCESS_TOKEN_EXPIRED): alert says expired',
    token: TOKENS.dave, as: dave, project: 'demo-full-2',
    beforeClick: (fake) => fake.patchScenario((s) => { s.accounts[TOKENS.dave].expired = true; }),
    expect: { alert: ['expired'], noDefiniteVerdict: true },
  },
  {
    name: 'Cloud Resource Manager API disabled in the consumer project: alert names it, verdicts Unknown',
    token: TOKENS.alice, as: alice, project: 'demo-crm-off-3',
    beforeClick: (fake) => fake.disableInConsumer('cloudresourcemanager.googleapis.com'),
    after: (fake) => fake.disableInConsumer('cloudresourcemanager.googleapis.com', false),
    expect: { alert: ['cloudresourcemanager.googleapis.com', CONSUMER_PROJECT], verdicts: ALL_UNKNOWN },
  },
  {
    name: 'rate limited (two 429 RESOURCE_EXHAUSTED): retried, verdicts still right',
    project: 'demo-rate-4',
    beforeClick: (fake) => fake.failNext(2),
    expect: { verdicts: ALL_READY, age: 'fresh', requests: 'fresh', saw429: 2 },
  },
  {
    name: 'reload, paste the same token, same project: only tokeninfo reaches Google',
    reload: true, token: TOKENS.alice, as: alice, project: 'demo-seed-1',
    expect: { verdicts: SEED, missing: SEED_MISSING, age: 'cached', requests: 'tokeninfo-only' },
  },
  {
    name: 'reload, paste the token and press Check before tokeninfo answers: still only tokeninfo',
    reload: true, token: TOKENS.alice, as: alice, waitIdentity: false, latency: 400, project: 'demo-seed-1',
    expect: { verdicts: SEED, age: 'cached', requests: 'tokeninfo-only' },
  },
];

const norm = (s) => (s || '').replace(/\s+/g, ' ').trim();
const describe = (reqs) => reqs.map((r) => `${r.isPreflight ? 'OPTIONS' : r.method} ${r.host}${r.path} ${r.status}`).join('; ');

async function runStep(step, { app, fake, ctx }) {
  const mark = fake.mark();
  const violationsBefore = fake.violations().length;
  if (step.reload) await app.reload();
  if (step.latency) fake.setLatency(step.latency);
  if (step.token) {
    await app.enterToken(step.token);
    ctx.account = step.as;
    if (step.identity !== false && step.waitIdentity !== false) await app.waitForIdentity(step.as.email);
  }
  if (step.project) {
    await app.enterProject(step.project);
    ctx.project = step.project;
  }
  if (step.beforeClick) step.beforeClick(fake);
  let timing = null;
  try {
    const button = step.button || 'Check';
    if (step.click === 'if-enabled') {
      // tokeninfo already refused the token: the app may disable Check, or allow it and fail.
      // Clicking may legitimately change nothing on screen (the alert is already there), so
      // this waits for the expected alert rather than for the page to change.
      await poll(() => fake.requestsSince(mark).some((r) => r.path === '/tokeninfo' && r.endMs !== null), { what: 'tokeninfo to answer' });
      await poll(async () => (await app.alerts().count()) > 0 || app.button(button).isEnabled(), { what: 'an alert or an enabled Check' });
      if (await app.button(button).isEnabled()) await app.button(button).click({ timeout: 10_000 });
      await fake.settled();
      await poll(async () => (await app.button(button).isEnabled())
        && (await app.alertTexts()).some((a) => step.expect.alert.every((x) => a.toLowerCase().includes(x.toLowerCase()))),
      { what: `an alert containing ${JSON.stringify(step.expect.alert)} and Check enabled` });
    } else {
      timing = await app.clickAndSettle(button);
    }
  } finally {
    await fake.settled();
    if (step.after) step.after(fake);
    if (step.latency) fake.setLatency(0);
  }
  const reqs = fake.requestsSince(mark);
  const e = step.expect;
  const { email } = ctx.account;

  assertEqual(fake.violations().slice(violationsBefore), [], 'violations recorded by the fake Google');
  // What the screen must show; polled (<= 10 s) in case the last render lags the probe.
  await poll(async () => {
    if (e.verdicts) {
      const got = await app.verdicts();
      for (const [k, v] of Object.entries(e.verdicts)) assertEqual(got[k], v, `verdict ${k}`);
      assertEqual(await app.headingsInResults(), ['Compute', 'Storage', 'Managed jobs'], 'headings in the status region');
    }
    if (e.missing) {
      const codes = await app.codes();
      for (const m of e.missing) assert(codes.includes(m), `missing permission ${m} not shown as <code>; codes: ${JSON.stringify(codes)}`);
    }
    if (e.noDefiniteVerdict) {
      const got = await app.verdicts();
      for (const [k, v] of Object.entries(got)) assert(v !== 'Ready' && v !== 'Not ready', `verdict ${k} shows "${v}" for a dead token`);
    }
    if (e.alert) {
      const alerts = await app.alertTexts();
      assert(alerts.some((a) => e.alert.every((s) => a.toLowerCase().includes(s.toLowerCase()))),
        `no alert contains ${JSON.stringify(e.alert)}; alerts: ${JSON.stringify(alerts)}`);
    }
    if (e.age) {
      const age = norm(await app.resultAge());
      const fresh = `Checked less than a minute ago for ${email} on ${ctx.project}`;
      const want = e.age === 'cached' ? `Cached result: checked less than a minute ago for ${email} on ${ctx.project}` : fresh;
      assertEqual(age, want, 'result-age');
    }
    return true;
  }, { what: 'the expected screen' });
  const bearer = reqs.filter((r) => BEARER_HOSTS.includes(r.host));
  const real = bearer.filter((r) => !r.isPreflight);
  switch (e.requests) {
    case 'none':
      assertEqual(describe(reqs), '', 'requests to Google (preflights included)');
      break;
    case 'tokeninfo-only':
      assertEqual(reqs.map((r) => `${r.method} ${r.host}${r.path}`), ['POST oauth2.googleapis.com/tokeninfo'], 'requests to Google');
      break;
    case 'no-bearer':
      assertEqual(describe(bearer), '', 'Bearer requests with a token tokeninfo refused');
      break;
    case 'fresh': {
      assert(real.length > 0, 'expected fresh requests to Google, saw none');
      const subs = [...new Set(real.map((r) => r.sub))];
      assertEqual(subs, [ctx.account.sub], 'accounts behind the Bearer requests');
      const crm = real.filter((r) => r.host === 'cloudresourcemanager.googleapis.com');
      assert(crm.length > 0, 'no Resource Manager testIamPermissions call');
      for (const r of crm) assertEqual(r.path, `/v1/projects/${ctx.project}:testIamPermissions`, 'Resource Manager path');
      break;
    }
    default:
      break;
  }
  if (e.saw429) {
    assertEqual(reqs.filter((r) => r.status === 429).length, e.saw429, '429 answers served');
  }
  const pre = reqs.filter((r) => r.isPreflight).length;
  const ms = timing ? `, ${Math.round(timing.clickToDoneMs)} ms click to result` : '';
  return `${reqs.length} requests (${pre} preflights)${ms}`;
}

async function main() {
  const failed = await withEnvironment(distDir(), async ({ site, fake, browser }) => {
    fake.setScenario(world());
    const app = new AppPage(browser.page);
    const artifacts = path.join(HERE, 'artifacts');
    const ctx = { account: null, project: null };
    const t = createRunner({
      onFailure: async (name) => {
        fs.mkdirSync(artifacts, { recursive: true });
        const file = path.join(artifacts, `${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.png`);
        await browser.page.screenshot({ path: file, fullPage: true });
        console.log(`  # screenshot: ${path.relative(process.cwd(), file)}`);
      },
    });

    let opened = false;
    const open = async () => {
      if (!opened) { await app.open(site.url); opened = true; }
    };

    for (const step of STEPS) {
      t.test(step.name, async () => {
        await open();
        return runStep(step, { app, fake, ctx });
      });
    }

    t.test('"Try the demo", then Check: three verdicts without calling Google', async () => {
      await open();
      await app.reload();
      const mark = fake.mark();
      await app.button('Try the demo').click({ timeout: 10_000 });
      await app.clickAndSettle('Check');
      const got = await app.verdicts();
      for (const [k, v] of Object.entries(got)) assert(['Ready', 'Not ready', 'Unknown'].includes(v), `demo verdict ${k}: ${v}`);
      await fake.settled();
      assertEqual(describe(fake.requestsSince(mark)), '', 'requests to Google during the demo');
    });

    t.test('"Forget token" empties the token field and the identity', async () => {
      await open();
      await app.reload();
      await app.enterToken(TOKENS.alice);
      await app.waitForIdentity(alice.email);
      await app.button('Forget token').click({ timeout: 10_000 });
      await poll(async () => (await app.tokenInput().inputValue()) === '', { what: 'an empty token field' });
      await poll(async () => !(await app.identity())?.includes(alice.email), { what: 'the identity to go' });
    });

    t.test('no token anywhere in localStorage, sessionStorage, cookies or the URL; no violation at the fake', async () => {
      await open();
      const dump = await app.storageDump();
      const cookies = await browser.context.cookies();
      const places = [
        ...Object.entries(dump.localStorage).map(([k, v]) => [`localStorage[${k}]`, `${k}=${v}`]),
        ...Object.entries(dump.sessionStorage).map(([k, v]) => [`sessionStorage[${k}]`, `${k}=${v}`]),
        ['document.cookie', dump.cookie],
        ['location.href', dump.href],
        ['cookies of the browser context', JSON.stringify(cookies)],
      ];
      for (const [who, token] of Object.entries(TOKENS)) {
        for (const [where, text] of places) {
          let decoded = text;
          try { decoded = decodeURIComponent(text); } catch { /* keep */ }
          assert(!text.includes(token) && !decoded.includes(token), `${who}'s token is stored in ${where}`);
        }
      }
      assertEqual(fake.violations(), [], 'violations recorded by the fake Google');
      // Chromium's own traffic to other *.googleapis.com hosts (component updater, autofill) also
      // lands at the fake; it is not the app's and carries no token (that would be a violation).
      const foreign = fake.requests({ all: true }).filter((r) => r.foreign);
      return `localStorage keys: ${Object.keys(dump.localStorage).length}; browser's own requests to other Google hosts: ${foreign.length}`;
    });

    return t.run();
  });
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  console.log('0 passed, 1 failed');
  process.exit(1);
});
