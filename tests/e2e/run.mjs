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
import { AppPage, FORM_DEFAULTS } from './app-page.mjs';
import {
  world, TOKENS, ACCOUNTS, SEED_MISSING, BULK, BULK_MISSING, saEmail, EXTRA_TOKENS, EXTRA_ACCOUNTS,
} from './world.mjs';

const { alice, bob, carol, dave } = ACCOUNTS;
const SEED = { compute: 'Not ready', storage: 'Ready', managedJobs: 'Not ready' };
const ALL_READY = { compute: 'Ready', storage: 'Ready', managedJobs: 'Ready' };
const ALL_UNKNOWN = { compute: 'Unknown', storage: 'Unknown', managedJobs: 'Unknown' };

// Each step: optional `reload`, `token` (+ `as` whose email must show as identity, or
// `identity: false` when tokeninfo refuses it, `waitIdentity: false` to press Check before it
// answers), `latency` (ms added to every fake answer during the step), `project`, `beforeClick(fake)`, `button` (or
// `click: 'if-enabled'`), `after(fake)`, and `expect`:
//   verdicts: exact values (a key left out is not checked); missing: <code> texts that must show;
//   age: 'fresh' | 'cached'; requests (required): 'none' | 'fresh' | 'sent' | 'tokeninfo-only' | 'no-bearer';
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
    // tokeninfo says only "invalid_token" for an expired token: the app says so in those words.
    expect: { alert: ['The access token is not valid'], noDefiniteVerdict: true, requests: 'no-bearer' },
  },
  {
    name: 'token expires between paste and Check (401 ACCESS_TOKEN_EXPIRED): alert says expired',
    token: TOKENS.dave, as: dave, project: 'demo-full-2',
    beforeClick: (fake) => fake.patchScenario((s) => { s.accounts[TOKENS.dave].expired = true; }),
    expect: { alert: ['The access token has expired'], noDefiniteVerdict: true, requests: 'sent' },
  },
  {
    name: "Cloud Resource Manager API disabled in Google's shared consumer project: alert names it and the way out (a quota project), verdicts Unknown, no link or command for a project nobody can change",
    token: TOKENS.alice, as: alice, project: 'demo-crm-off-3',
    beforeClick: (fake) => fake.disableInConsumer('cloudresourcemanager.googleapis.com'),
    after: (fake) => fake.disableInConsumer('cloudresourcemanager.googleapis.com', false),
    expect: {
      alert: ['cloudresourcemanager.googleapis.com', CONSUMER_PROJECT, 'set-quota-project'],
      verdicts: ALL_UNKNOWN,
      requests: 'sent',
      noLinkTo: CONSUMER_PROJECT,
      notInResults: `gcloud services enable cloudresourcemanager.googleapis.com --project ${CONSUMER_PROJECT}`,
    },
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
      // Not vacuous: either Unknown verdicts are on screen, or none is and an alert says why.
      const shown = Object.values(got).filter((v) => v !== null);
      assert(shown.length > 0 || (await app.alerts().count()) > 0, 'no verdict and no alert on screen');
    }
    if (e.alert) {
      const alerts = await app.alertTexts();
      assert(alerts.some((a) => e.alert.every((s) => a.toLowerCase().includes(s.toLowerCase()))),
        `no alert contains ${JSON.stringify(e.alert)}; alerts: ${JSON.stringify(alerts)}`);
    }
    if (e.noLinkTo) {
      const hrefs = await app.page.locator('a[href]').evaluateAll((as) => as.map((a) => a.href));
      assertEqual(hrefs.filter((h) => h.includes(e.noLinkTo)), [], `links to ${e.noLinkTo}`);
    }
    if (e.notInResults) {
      assert(!(await app.resultsText()).includes(e.notInResults), `the results show "${e.notInResults}"`);
    }
    if (e.link) {
      const [name, hrefPart] = e.link;
      const link = app.page.getByRole('link', { name });
      assert((await link.count()) > 0, `no link named "${name}"`);
      const href = await link.first().getAttribute('href');
      assert(href && href.includes(hrefPart), `link "${name}" goes to ${href}, not to ...${hrefPart}`);
    }
    if (e.age) {
      const age = norm(await app.resultAge());
      const fresh = `Checked less than a minute ago for ${email} on ${ctx.project}`;
      const want = e.age === 'cached' ? `Cached result: checked less than a minute ago for ${email} on ${ctx.project}` : fresh;
      assertEqual(age, want, 'result-age');
    }
    return true;
  }, { what: 'the expected screen' });
  // Read what reached Google only now, after the screen settled: a late background request
  // counts against 'none' / 'tokeninfo-only' too.
  await fake.settled();
  const reqs = fake.requestsSince(mark);
  const bearer = reqs.filter((r) => BEARER_HOSTS.includes(r.host));
  const real = bearer.filter((r) => !r.isPreflight);
  switch (e.requests) {
    case 'none':
      assertEqual(describe(reqs), '', 'requests to Google (preflights included)');
      break;
    case 'tokeninfo-only': {
      // Once tokeninfo names the account, the project picker lists its projects (ui/picker.rs,
      // Resource Manager projects.search): not part of the check, and only as that account.
      const listing = reqs.filter((r) => r.kind === 'crm.projects.search');
      assert(listing.every((r) => r.isPreflight || r.sub === ctx.account.sub), `project listing as another account: ${describe(listing)}`);
      assertEqual(reqs.filter((r) => r.kind !== 'crm.projects.search').map((r) => `${r.method} ${r.host}${r.path}`), ['POST oauth2.googleapis.com/tokeninfo'], 'requests to Google');
      break;
    }
    case 'no-bearer':
      assertEqual(describe(bearer), '', 'Bearer requests with a token tokeninfo refused');
      break;
    case 'fresh': {
      assert(real.length > 0, 'expected fresh requests to Google, saw none');
      const subs = [...new Set(real.map((r) => r.sub))];
      assertEqual(subs, [ctx.account.sub], 'accounts behind the Bearer requests');
      // The warm-up may have asked about the project still in the field when the token changed.
      const crm = real.filter((r) => r.host === 'cloudresourcemanager.googleapis.com' && r.path.endsWith(':testIamPermissions') && !isWarmUpProbe(r));
      assert(crm.length > 0, 'no Resource Manager testIamPermissions call');
      for (const r of crm) assertEqual(r.path, `/v1/projects/${ctx.project}:testIamPermissions`, 'Resource Manager path');
      break;
    }
    case 'sent':
      // The token was used with Google (whatever Google answered).
      assert(real.length > 0, 'expected Bearer requests to Google, saw none');
      break;
    case undefined:
      // Steps that do not name what reaches Google are only the ones whose click may change
      // nothing (a token tokeninfo refused): say so there with requests: 'no-bearer'.
      throw new Error(`step "${step.name}" does not say which requests reach Google`);
    default:
      throw new Error(`unknown requests expectation ${e.requests}`);
  }
  if (e.saw429) {
    assertEqual(reqs.filter((r) => r.status === 429).length, e.saw429, '429 answers served');
  }
  const pre = reqs.filter((r) => r.isPreflight).length;
  const ms = timing ? `, ${Math.round(timing.clickToDoneMs)} ms click to result` : '';
  return `${reqs.length} requests (${pre} preflights)${ms}`;
}

// ---------- scenarios of the SkyPilot options, the custom list, buckets, service accounts, APIs ----------

const CRM_HOST = 'cloudresourcemanager.googleapis.com';
const SU_HOST = 'serviceusage.googleapis.com';
const GCS_HOST = 'storage.googleapis.com';
const IAM_HOST = 'iam.googleapis.com';
const TPU_PERMISSIONS = ['tpu.nodes.create', 'tpu.nodes.delete', 'tpu.nodes.get', 'tpu.nodes.list', 'tpu.nodes.update', 'tpu.operations.get'];
const BUCKET_OBJECT_PERMISSIONS = ['storage.buckets.get', 'storage.objects.create', 'storage.objects.delete',
  'storage.objects.get', 'storage.objects.list', 'storage.objects.update'];
const PER_BUCKET_NOTE = 'granted per bucket — not verifiable here';
const ON_SA_NOTE = 'may be granted on the service account';
const sorted = (xs) => [...xs].sort();

/** The latest start is before the earliest end: every request was in flight at one moment (one wave). */
function oneWave(reqs, what) {
  assert(reqs.length > 0, `${what}: no request`);
  const lastStart = Math.max(...reqs.map((r) => r.startMs));
  const firstEnd = Math.min(...reqs.map((r) => r.endMs));
  assert(lastStart < firstEnd, `${what} are not one parallel wave: the last started at ${lastStart} ms, `
    + `after the first was answered at ${firstEnd} ms (${reqs.map((r) => `${r.method} ${r.host} ${r.startMs}-${r.endMs}`).join('; ')})`);
}

/** Polls the screen assertions in `fn` (<= 10 s) in case the last render lags the probe. */
const expectScreen = (fn, what = 'the expected screen') => poll(async () => { await fn(); return true; }, { what });

/** Token (when the field holds another), identity, project, then the form (left-out fields reset). */
async function prepare(app, ctx, { who, project, form = {} }, fake) {
  const token = TOKENS[who];
  if ((await app.tokenInput().inputValue()) !== token) await app.enterToken(token);
  await app.waitForIdentity(ACCOUNTS[who].email);
  ctx.account = ACCOUNTS[who];
  await app.enterProject(project);
  ctx.project = project;
  await app.setForm(form);
  await settleWarmUp(fake);
}

/**
 * Waits out the warm-up the form just triggered (ui::warmup: 350 ms after the last edit, then
 * one cheap request per URL), so that what a test measures next is the check alone.
 */
async function settleWarmUp(fake) {
  // Quiet for 700 ms: on a busy machine the debounce timer can fire late.
  for (let i = 0; i < 10; i += 1) {
    const mark = fake.mark();
    await new Promise((r) => setTimeout(r, 700));
    await fake.settled();
    if (fake.requestsSince(mark).length === 0) return;
  }
}

/** The warm-up's project probe: a testIamPermissions asking only resourcemanager.projects.get. */
const isWarmUpProbe = (r) => {
  // From the body: the fake fills `permissions` only for a project the caller can see.
  try {
    const asked = JSON.parse(r.body || '{}').permissions || [];
    return asked.length === 1 && asked[0] === 'resourcemanager.projects.get';
  } catch {
    return false;
  }
};

/** Presses Check, waits for the page and the fake; every Bearer request must be fresh and the account's. */
async function runCheck(app, fake, ctx, { latency = 0 } = {}) {
  const mark = fake.mark();
  const violationsBefore = fake.violations().length;
  if (latency) fake.setLatency(latency);
  let timing;
  try {
    timing = await app.clickAndSettle('Check');
  } finally {
    await fake.settled();
    if (latency) fake.setLatency(0);
  }
  const reqs = fake.requestsSince(mark);
  assertEqual(fake.violations().slice(violationsBefore), [], 'violations recorded by the fake Google');
  const bearer = reqs.filter((r) => !r.isPreflight && BEARER_HOSTS.includes(r.host));
  assert(bearer.length > 0, `expected fresh requests to Google, saw: ${describe(reqs) || 'none'}`);
  // An injected fault answers before the fake reads the token: only the others name an account.
  assertEqual([...new Set(bearer.filter((r) => !r.fault).map((r) => r.sub))], [ctx.account.sub], 'accounts behind the Bearer requests');
  const on = (host) => bearer.filter((r) => r.host === host);
  const note = `${reqs.length} requests (${reqs.filter((r) => r.isPreflight).length} preflights), ${Math.round(timing.clickToDoneMs)} ms click to result`;
  // Resource Manager's permission tests (its getIamPolicy for the first launch is apart).
  const crm = on(CRM_HOST).filter((r) => r.path.endsWith(':testIamPermissions'));
  return { reqs, bearer, crm, su: on(SU_HOST), gcs: on(GCS_HOST), iam: on(IAM_HOST), note };
}

const askedOf = (reqs) => reqs.flatMap((r) => r.permissions || []);

/** Resets the form through its controls and checks that it shows its defaults again. */
async function resetAndCheck(app) {
  await app.resetForm();
  assertEqual(await app.formState(), { ...FORM_DEFAULTS, options: { ...FORM_DEFAULTS.options } }, 'the form after a reset');
}

function optionScenarios(scenario) {
  scenario('[catalogue and options] Custom VPC ticked: alice on demo-seed-1 is Compute Ready; the firewall pair is not asked', async ({ app, fake, ctx }) => {
    await prepare(app, ctx, { who: 'alice', project: 'demo-seed-1', form: { options: { customVpc: true } } }, fake);
    const run = await runCheck(app, fake, ctx);
    assert(run.crm.length > 0 && run.crm.every((r) => r.status === 200), `Resource Manager calls: ${describe(run.crm)}`);
    assert(askedOf(run.crm).includes('compute.instances.create'), `the Resource Manager body must still ask compute.instances.create; bodies: ${run.crm.map((r) => r.body).join(' | ')}`);
    for (const r of run.crm) {
      for (const p of SEED_MISSING) assert(!r.body.includes(p), `the Resource Manager body asks ${p} with a custom VPC: ${r.body}`);
    }
    await expectScreen(async () => {
      assertEqual(await app.allVerdicts(), { compute: 'Ready', storage: 'Ready', managedJobs: 'Ready', custom: null }, 'verdicts');
      const compute = await app.card('compute');
      assertEqual(compute.codes, [], 'names listed in the Compute card');
    });
    await resetAndCheck(app); // unticks "Custom VPC" again
    return run.note;
  });

  scenario('[catalogue and options] Reservations ticked: compute.reservations.list is asked; lacking it, Compute is Not ready naming it', async ({ app, fake, ctx }) => {
    await prepare(app, ctx, { who: 'alice', project: 'opts-resv-7', form: { options: { reservations: true } } }, fake);
    const run = await runCheck(app, fake, ctx);
    assert(askedOf(run.crm).includes('compute.reservations.list'), `compute.reservations.list not in the Resource Manager bodies: ${run.crm.map((r) => r.body).join(' | ')}`);
    await expectScreen(async () => {
      const v = await app.allVerdicts();
      assertEqual([v.compute, v.storage, v.managedJobs, v.custom], ['Not ready', 'Ready', 'Not ready', null], 'verdicts [compute, storage, managed jobs, custom]');
      assertEqual((await app.card('compute')).codes, ['compute.reservations.list'], 'names listed in the Compute card');
    });
    await resetAndCheck(app);
    return run.note;
  });

  scenario('[catalogue and options] TPUs ticked: tpu.* asked, tpu.googleapis.com off and not enableable: Compute Not ready naming the API', async ({ app, fake, ctx }) => {
    await prepare(app, ctx, { who: 'frank', project: 'opts-tpu-8', form: { options: { tpus: true } } }, fake);
    const run = await runCheck(app, fake, ctx);
    const asked = askedOf(run.crm);
    for (const p of TPU_PERMISSIONS) assert(asked.includes(p), `${p} not in the Resource Manager bodies: ${run.crm.map((r) => r.body).join(' | ')}`);
    assert(run.su.some((r) => r.kind === 'serviceusage.list' && r.status === 200), `enabled services not listed: ${describe(run.su)}`);
    await expectScreen(async () => {
      assertEqual((await app.allVerdicts()).compute, 'Not ready', 'Compute verdict');
      const compute = await app.card('compute');
      assert(compute.codes.includes('tpu.googleapis.com'), `the Compute card does not name tpu.googleapis.com; names: ${JSON.stringify(compute.codes)}`);
      assert(!compute.codes.some((c) => c.startsWith('tpu.nodes.') || c.startsWith('tpu.operations.')), `frank holds the TPU permissions, yet the card lists ${JSON.stringify(compute.codes)}`);
      const apis = await app.apis();
      assert(apis !== null, 'no visible APIs list (data-testid="apis")');
      assert(apis.includes('tpu.googleapis.com: off'), `APIs list: ${JSON.stringify(apis)}`);
      const text = await app.resultsText();
      const line = 'gcloud services enable tpu.googleapis.com --project=opts-tpu-8';
      assert(text.includes(line), `"${line}" is not shown in the results region`);
    });
    await resetAndCheck(app);
    return run.note;
  });

  const CUSTOM_TEXT = [
    'storage.*', // a wildcard
    'bogus', // not service.resource.verb
    'compute.instances.create', // held
    'compute.instances.create', // the duplicate
    'resourcemanager.projects.create', // not valid on a project (an organization-level name)
    'compute.firewalls.create', // not held by alice on demo-seed-1
  ].join('\n');
  scenario('[catalogue and options] custom list only: bad entries named with reasons; Custom Not ready for the one missing and the one not valid on a project', async ({ app, fake, ctx }) => {
    await prepare(app, ctx, { who: 'alice', project: 'demo-seed-1', form: { options: { skypilotProfiles: false }, custom: CUSTOM_TEXT } }, fake);
    await expectScreen(async () => {
      assertEqual(await app.customSummary(), '3 to check, 1 duplicate(s) folded, 2 skipped:', 'custom-summary');
      const rejected = await app.rejectedEntries();
      assertEqual(rejected.map((r) => r.entry), ['storage.*', 'bogus'], 'entries listed as invalid');
      assert(/wildcard/i.test(rejected[0].reason), `the reason for storage.* does not say wildcard: "${rejected[0].reason}"`);
      assert(rejected[1].reason.length > 0, 'no reason for bogus');
    }, 'the invalid entries under the textarea');
    const run = await runCheck(app, fake, ctx);
    assertEqual([...new Set(run.bearer.map((r) => r.host))], [CRM_HOST], 'hosts asked for a custom list only');
    const refused = run.crm.find((r) => r.status === 400);
    assert(refused && refused.permissions.includes('resourcemanager.projects.create'), `no 400 for resourcemanager.projects.create: ${describe(run.crm)}`);
    // The rest of the refused request goes again in parts, at once (core::check SPLIT_WAYS).
    const retries = run.crm.filter((r) => r.startMs >= refused.endMs && r.status === 200);
    assert(retries.length > 0, `no successful retry after the 400: ${describe(run.crm)}`);
    assertEqual(sorted(askedOf(retries)), ['compute.firewalls.create', 'compute.instances.create'], 'permissions asked again after the 400');
    await expectScreen(async () => {
      assertEqual(await app.allHeadings(), ['Custom'], 'verdict headings');
      assertEqual((await app.allVerdicts()).custom, 'Not ready', 'Custom verdict');
      const custom = await app.card('custom');
      assertEqual(custom.codes, ['compute.firewalls.create', 'resourcemanager.projects.create'], 'names listed in the Custom card');
      assert(custom.text.includes('Not valid on a project (1) — not valid on a project: misspelt, or it belongs to an organization, folder or billing account'),
        `the Custom card does not say why resourcemanager.projects.create fails: ${custom.text}`);
    });
    await resetAndCheck(app);
    return run.note;
  });

  scenario('[catalogue and options] 1,000 custom permissions: 10 testIamPermissions POSTs of <= 100, in one parallel wave', async ({ app, fake, ctx }) => {
    fake.patchScenario((s) => { s.extraTestable = [...BULK]; });
    try {
      await prepare(app, ctx, { who: 'alice', project: 'custom-bulk-9', form: { options: { skypilotProfiles: false }, custom: BULK.join('\n') } }, fake);
      await expectScreen(async () => assertEqual(await app.customSummary(), '1000 to check', 'custom-summary'));
      const run = await runCheck(app, fake, ctx, { latency: 250 });
      assertEqual([...new Set(run.bearer.map((r) => r.host))], [CRM_HOST], 'hosts asked');
      assertEqual(run.crm.length, 10, 'testIamPermissions POSTs');
      for (const r of run.crm) {
        assert(r.permissions.length <= 100, `a POST asks ${r.permissions.length} permissions`);
        assertEqual(r.status, 200, 'status of each POST');
      }
      const asked = askedOf(run.crm);
      assertEqual(asked.length, 1000, 'permissions asked in all (none twice)');
      assertEqual(sorted(new Set(asked)), sorted(BULK), 'the permissions asked');
      oneWave(run.crm, 'the 10 POSTs');
      await expectScreen(async () => {
        assertEqual(await app.allHeadings(), ['Custom'], 'verdict headings');
        assertEqual((await app.allVerdicts()).custom, 'Not ready', 'Custom verdict');
        assertEqual((await app.card('custom')).codes, [BULK_MISSING], 'names listed in the Custom card');
      });
      await resetAndCheck(app);
      return run.note;
    } finally {
      fake.patchScenario((s) => { s.extraTestable = []; });
    }
  });
}

function honestyScenarios(scenario) {
  const OWNER_PROJECT = 'owner-bkt-11';
  const SA = saEmail(OWNER_PROJECT);

  scenario('[no false verdicts] owner-like account in docs mode: Storage and Compute Ready, with the per-bucket and service-account notes', async ({ app, fake, ctx }) => {
    await prepare(app, ctx, { who: 'erin', project: 'owner-nobkt-10', form: { mode: 'docs' } }, fake);
    const run = await runCheck(app, fake, ctx);
    assertEqual(run.gcs.length, 0, 'storage requests without a bucket');
    // IAM is asked about skypilot-v1 only (the first launch), never about another account.
    const firstLaunchAccount = saEmail('owner-nobkt-10');
    assertEqual(run.iam.filter((r) => !decodeURIComponent(r.path).includes(firstLaunchAccount)).map((r) => r.path), [],
      'IAM requests about another account than skypilot-v1');
    await expectScreen(async () => {
      assertEqual(await app.allVerdicts(), { compute: 'Ready', storage: 'Ready', managedJobs: 'Ready', custom: null }, 'verdicts');
      const storage = await app.card('storage');
      assertEqual(storage.codes, [], 'names listed in the Storage card');
      assert(storage.notes.some((n) => n.includes(PER_BUCKET_NOTE)), `no Storage note says "${PER_BUCKET_NOTE}"; notes: ${JSON.stringify(storage.notes)}`);
      const compute = await app.card('compute');
      assertEqual(compute.codes, [], 'names listed in the Compute card');
      assert(compute.notes.some((n) => n.includes(ON_SA_NOTE)), `no Compute note says "${ON_SA_NOTE}"; notes: ${JSON.stringify(compute.notes)}`);
    });
    await resetAndCheck(app);
    return run.note;
  });

  scenario('[no false verdicts] same account naming its bucket and service account: all Ready, no such notes; bucket and SA tested in the CRM wave', async ({ app, fake, ctx }) => {
    await prepare(app, ctx, { who: 'erin', project: OWNER_PROJECT, form: { mode: 'docs', bucket: 'owner-bkt-11-jobs', serviceAccount: SA } }, fake);
    const run = await runCheck(app, fake, ctx, { latency: 250 });
    const gcsGets = run.gcs.filter((r) => r.method === 'GET' && r.path === '/storage/v1/b/owner-bkt-11-jobs/iam/testPermissions');
    assertEqual([run.gcs.length, gcsGets.length], [1, 1], 'storage requests, testPermissions GETs on the bucket');
    assertEqual(sorted(gcsGets[0].permissions), BUCKET_OBJECT_PERMISSIONS, 'permissions tested on the bucket');
    const iamPosts = run.iam.filter((r) => r.method === 'POST' && decodeURIComponent(r.path) === `/v1/projects/-/serviceAccounts/${SA}:testIamPermissions`);
    // The named account is skypilot-v1 itself: its actAs probe also answers the first launch's
    // question (asked once), beside the first launch's look-up of the account.
    assertEqual([run.iam.length, iamPosts.length], [2, 1], 'IAM requests, testIamPermissions POSTs on the service account');
    assertEqual(iamPosts[0].permissions, ['iam.serviceAccounts.actAs'], 'permissions tested on the service account');
    assert(run.crm.length > 0, 'no Resource Manager call');
    oneWave([...run.crm, gcsGets[0], iamPosts[0]], 'the Resource Manager, bucket and service-account calls');
    await expectScreen(async () => {
      assertEqual(await app.allVerdicts(), { compute: 'Ready', storage: 'Ready', managedJobs: 'Ready', custom: null }, 'verdicts');
      for (const key of ['compute', 'storage', 'managedJobs']) {
        const card = await app.card(key);
        assertEqual(card.codes, [], `names listed in the ${key} card`);
        for (const phrase of [PER_BUCKET_NOTE, ON_SA_NOTE]) {
          assert(!card.notes.some((n) => n.includes(phrase)), `the ${key} card still says "${phrase}": ${JSON.stringify(card.notes)}`);
        }
      }
    });
    await resetAndCheck(app);
    return run.note;
  });

  scenario('[no false verdicts] a bucket whose policy grants nothing: Storage Not ready listing the object permissions', async ({ app, fake, ctx }) => {
    await prepare(app, ctx, { who: 'erin', project: OWNER_PROJECT, form: { mode: 'docs', bucket: 'owner-bkt-11-locked', serviceAccount: SA } }, fake);
    const run = await runCheck(app, fake, ctx);
    assertEqual(run.gcs.map((r) => r.status), [200], 'storage answers');
    await expectScreen(async () => {
      const v = await app.allVerdicts();
      assertEqual([v.compute, v.storage, v.managedJobs], ['Ready', 'Not ready', 'Not ready'], 'verdicts [compute, storage, managed jobs]');
      const storage = await app.card('storage');
      assertEqual(sorted(storage.codes), BUCKET_OBJECT_PERMISSIONS, 'names listed in the Storage card');
      assert(!storage.notes.some((n) => n.includes(PER_BUCKET_NOTE)), `the Storage card says "${PER_BUCKET_NOTE}" although the bucket was tested`);
    });
    await resetAndCheck(app);
    return run.note;
  });

  scenario('[no false verdicts] a bucket that does not exist (404): Storage Unknown and an alert saying so', async ({ app, fake, ctx }) => {
    await prepare(app, ctx, { who: 'erin', project: OWNER_PROJECT, form: { mode: 'docs', bucket: 'owner-bkt-11-gone', serviceAccount: SA } }, fake);
    const run = await runCheck(app, fake, ctx);
    assertEqual(run.gcs.map((r) => r.status), [404], 'storage answers');
    await expectScreen(async () => {
      const v = await app.allVerdicts();
      assertEqual([v.compute, v.storage, v.managedJobs], ['Ready', 'Unknown', 'Unknown'], 'verdicts [compute, storage, managed jobs]');
      assertEqual((await app.card('storage')).codes, [], 'names listed in the Storage card');
      const alerts = await app.alertTexts();
      assert(alerts.some((a) => /bucket/i.test(a) && /does not exist/i.test(a)),
        `no alert says the bucket does not exist; alerts: ${JSON.stringify(alerts)}`);
    });
    await resetAndCheck(app);
    return run.note;
  });

  scenario('[no false verdicts] compute.googleapis.com off, account may enable APIs: Compute Ready, noting sky check will enable it', async ({ app, fake, ctx }) => {
    await prepare(app, ctx, { who: 'alice', project: 'apis-off-12' }, fake);
    const run = await runCheck(app, fake, ctx);
    assertEqual(run.su.map((r) => `${r.kind} ${r.status}`), ['serviceusage.list 200'], 'Service Usage calls');
    await expectScreen(async () => {
      assertEqual((await app.allVerdicts()).compute, 'Ready', 'Compute verdict');
      const compute = await app.card('compute');
      assertEqual(compute.codes, [], 'names listed in the Compute card');
      assert(compute.notes.some((n) => n.includes('compute.googleapis.com') && n.includes('will enable it')),
        `no Compute note says compute.googleapis.com "will enable it"; notes: ${JSON.stringify(compute.notes)}`);
    });
    await resetAndCheck(app);
    return run.note;
  });

  scenario('[no false verdicts] compute.googleapis.com off, account may not enable APIs: Compute Not ready, the API off in the list, the gcloud line shown', async ({ app, fake, ctx }) => {
    await prepare(app, ctx, { who: 'frank', project: 'apis-off-12' }, fake);
    const run = await runCheck(app, fake, ctx);
    await expectScreen(async () => {
      assertEqual((await app.allVerdicts()).compute, 'Not ready', 'Compute verdict');
      const compute = await app.card('compute');
      assert(compute.codes.includes('compute.googleapis.com'), `the Compute card does not name compute.googleapis.com; names: ${JSON.stringify(compute.codes)}`);
      const apis = await app.apis();
      assert(apis !== null, 'no visible APIs list (data-testid="apis")');
      assert(apis.includes('compute.googleapis.com: off'), `APIs list: ${JSON.stringify(apis)}`);
      const line = 'gcloud services enable compute.googleapis.com --project=apis-off-12';
      assert((await app.resultsText()).includes(line), `"${line}" is not shown in the results region (commands in the Compute card, visible or not: ${JSON.stringify(compute.commands)})`);
    });
    await resetAndCheck(app);
    return run.note;
  });

  scenario('[no false verdicts] Managed jobs names each missing permission once (Compute and Storage both lack serviceusage.services.enable)', async ({ app, fake, ctx }) => {
    // frank on apis-off-12 lacks serviceusage.services.enable, which sky check asks for both Compute
    // and Storage; Managed jobs needs both and must list it once (a cached answer may serve here).
    await prepare(app, ctx, { who: 'frank', project: 'apis-off-12' }, fake);
    const mark = fake.mark();
    await app.clickAndSettle('Check');
    await fake.settled();
    assertEqual(fake.violations(), [], 'violations recorded by the fake Google');
    await expectScreen(async () => {
      const v = await app.allVerdicts();
      assertEqual([v.compute, v.storage, v.managedJobs], ['Not ready', 'Not ready', 'Not ready'], 'verdicts [compute, storage, managed jobs]');
      const jobs = await app.card('managedJobs');
      assert(jobs.codes.includes('serviceusage.services.enable'), `Managed jobs does not name serviceusage.services.enable: ${JSON.stringify(jobs.codes)}`);
      const twice = jobs.codes.filter((c, i) => jobs.codes.indexOf(c) !== i);
      assertEqual(twice, [], 'names listed more than once in the Managed jobs card');
      // The advice asks for each role once, and its custom-role alternative lists each name once.
      assert(jobs.roles.length > 0, `no role suggested in the Managed jobs card: ${JSON.stringify(jobs)}`);
      assertEqual(jobs.roles.filter((r, i) => jobs.roles.indexOf(r) !== i), [], 'roles suggested twice in the Managed jobs card');
      const yaml = jobs.commands.find((c) => c.startsWith('title:'));
      assert(yaml, `no custom-role YAML in the Managed jobs card: ${JSON.stringify(jobs.commands)}`);
      const listed = yaml.split('includedPermissions:')[1].split(' - ').map((x) => x.trim()).filter(Boolean);
      assertEqual(listed.filter((q, i) => listed.indexOf(q) !== i), [], 'permissions repeated in the custom role of Managed jobs');
    });
    await resetAndCheck(app);
    return `${fake.requestsSince(mark).length} requests`;
  });

  scenario('[no false verdicts] SkyPilot\'s documented minimal role (no serviceusage.services.get): APIs read with services.list, real verdicts', async ({ app, fake, ctx }) => {
    await prepare(app, ctx, { who: 'gina', project: 'minimal-role-14' }, fake);
    const run = await runCheck(app, fake, ctx);
    assertEqual(run.su.map((r) => `${r.kind} ${r.status}`), ['serviceusage.list 200'], 'Service Usage requests');
    assert(run.crm.every((r) => r.status === 200), `Resource Manager answers: ${describe(run.crm)}`);
    await expectScreen(async () => {
      const v = await app.allVerdicts();
      assertEqual([v.compute, v.storage, v.managedJobs], ['Ready', 'Ready', 'Ready'], 'verdicts [compute, storage, managed jobs]');
      assertEqual(await app.alertTexts(), [], 'alerts');
      // The documented role cannot create skypilot-v1: that is the First launch card's business.
      assertEqual(await app.firstLaunch(), 'Not ready', 'First launch verdict');
      const first = await app.card('firstLaunch');
      assertEqual(first.codes.filter((c) => c.includes('.')).sort(),
        ['iam.serviceAccounts.create', 'resourcemanager.projects.setIamPolicy'], 'names in the First launch card');
    });
    await resetAndCheck(app);
    return run.note;
  });

  scenario('[no false verdicts] a jobs.bucket in another team\'s project where the owner holds nothing: Storage and Managed jobs Not ready', async ({ app, fake, ctx }) => {
    await prepare(app, ctx, { who: 'erin', project: 'owner-bkt-11', form: { bucket: 'gs://other-team-15-bkt/jobs/erin' } }, fake);
    const run = await runCheck(app, fake, ctx);
    assertEqual(run.gcs.map((r) => `${r.path} ${r.status}`), ['/storage/v1/b/other-team-15-bkt/iam/testPermissions 200'], 'bucket test (sub-path dropped)');
    await expectScreen(async () => {
      const v = await app.allVerdicts();
      assertEqual([v.compute, v.storage, v.managedJobs], ['Ready', 'Not ready', 'Not ready'], 'verdicts [compute, storage, managed jobs]');
      assertEqual(sorted((await app.card('storage')).codes.filter((c) => c.startsWith('storage.'))), BUCKET_OBJECT_PERMISSIONS, 'names in the Storage card');
      const storage = await app.card('storage');
      assert(storage.commands.some((c) => c.startsWith('gcloud storage buckets add-iam-policy-binding gs://other-team-15-bkt ')),
        `the fix does not grant on the bucket: ${JSON.stringify(storage.commands)}`);
    });
    await resetAndCheck(app);
    return run.note;
  });

  scenario('[no false verdicts] a compute-only account: Managed jobs Ready through the controller without a bucket, Not ready with a GCS jobs.bucket', async ({ app, fake, ctx }) => {
    await prepare(app, ctx, { who: 'bob', project: 'compute-only-16' }, fake);
    const run = await runCheck(app, fake, ctx);
    await expectScreen(async () => {
      const v = await app.allVerdicts();
      assertEqual([v.compute, v.storage, v.managedJobs], ['Ready', 'Not ready', 'Ready'], 'verdicts without a bucket');
      const jobs = await app.card('managedJobs');
      assert(jobs.notes.some((n) => n.includes('through the controller') && n.includes('sky check gcp')),
        `no note about the two-hop upload: ${JSON.stringify(jobs.notes)}`);
    });
    await app.setForm({ bucket: 'compute-only-16-jobs' });
    await runCheck(app, fake, ctx);
    await expectScreen(async () => {
      const v = await app.allVerdicts();
      assertEqual([v.compute, v.storage, v.managedJobs], ['Ready', 'Not ready', 'Not ready'], 'verdicts with jobs.bucket on GCS');
    });
    await resetAndCheck(app);
    return run.note;
  });

  scenario('[no false verdicts] a typo in a custom list: Custom Not ready, named as not valid on a project', async ({ app, fake, ctx }) => {
    await prepare(app, ctx, { who: 'alice', project: 'demo-full-2', form: { options: { skypilotProfiles: false }, custom: 'compute.instances.creat\ncompute.instances.create' } }, fake);
    const run = await runCheck(app, fake, ctx);
    assertEqual(run.crm.map((r) => r.status), [400, 200], 'Resource Manager answers: the typo refused, the rest answered');
    await expectScreen(async () => {
      assertEqual((await app.allVerdicts()).custom, 'Not ready', 'Custom verdict');
      const custom = await app.card('custom');
      assertEqual(custom.codes, ['compute.instances.creat'], 'names in the Custom card');
      assert(custom.text.includes('misspelt'), `the card does not say it may be misspelt: ${custom.text}`);
    });
    await resetAndCheck(app);
    return run.note;
  });

  scenario('[no false verdicts] Resource Manager failing (503 after every retry) while compute.googleapis.com is off: Unknown, never Not ready', async ({ app, fake, ctx }) => {
    await prepare(app, ctx, { who: 'alice', project: 'crm-fail-17' }, fake);
    fake.injectFault({ type: 'html503', host: CRM_HOST, times: Infinity });
    let run;
    try {
      run = await runCheck(app, fake, ctx);
    } finally {
      fake.clearFaults();
    }
    assert(run.crm.length >= 4 && run.crm.every((r) => r.status === 503), `Resource Manager answers: ${describe(run.crm)}`);
    await expectScreen(async () => {
      const v = await app.allVerdicts();
      assertEqual(v.compute, 'Unknown', 'Compute verdict');
      assertEqual(v.managedJobs, 'Unknown', 'Managed jobs verdict');
      const apis = await app.apis();
      assert(apis.includes('compute.googleapis.com: off'), `APIs list: ${JSON.stringify(apis)}`);
    });
    await resetAndCheck(app);
    return run.note;
  });

  scenario('[no false verdicts] a project without billing: Compute and Managed jobs Not ready, saying VMs cannot be created', async ({ app, fake, ctx }) => {
    await prepare(app, ctx, { who: 'alice', project: 'no-billing-18' }, fake);
    const run = await runCheck(app, fake, ctx);
    assert(run.bearer.some((r) => r.kind === 'billing.getBillingInfo' && r.status === 200), `no billing look-up: ${describe(run.bearer)}`);
    await expectScreen(async () => {
      const v = await app.allVerdicts();
      assertEqual([v.compute, v.storage, v.managedJobs], ['Not ready', 'Ready', 'Not ready'], 'verdicts [compute, storage, managed jobs]');
      assert((await app.card('compute')).text.includes('No billing account: VMs cannot be created'), 'the Compute card does not say why');
    });
    await resetAndCheck(app);
    return run.note;
  });

  scenario('[identity] ADC and gcloud CLI tokens of different accounts: both checked in one wave, the difference first on the page', async ({ app, fake, ctx }) => {
    const { heidi } = EXTRA_ACCOUNTS;
    await app.enterToken(EXTRA_TOKENS.heidi);
    await app.waitForIdentity(heidi.email);
    await app.enterCliToken(TOKENS.bob);
    await poll(async () => ((await app.page.getByTestId('cli-identity').allInnerTexts()).join(' ')).includes(ACCOUNTS.bob.email),
      { what: "the CLI token's account" });
    const warmMark = fake.mark();
    await app.enterProject('two-ids-19');
    // The warm-up pays the preflights: wait for it, so the check is measured alone.
    await poll(() => fake.requestsSince(warmMark).some((r) => !r.isPreflight && r.target === 'two-ids-19' && isWarmUpProbe(r)),
      { timeout: 15_000, what: 'the warm-up of two-ids-19' });
    await settleWarmUp(fake);
    const mark = fake.mark();
    fake.setLatency(250);
    try {
      await app.clickAndSettle('Check');
      await fake.settled();
    } finally {
      fake.setLatency(0);
    }
    const all = fake.requestsSince(mark).filter((r) => BEARER_HOSTS.includes(r.host));
    const bearer = all.filter((r) => !r.isPreflight);
    assertEqual(sorted(new Set(bearer.map((r) => r.sub))), sorted([heidi.sub, ACCOUNTS.bob.sub]), 'accounts behind the requests');
    // Both tokens' checks go out together: their testIamPermissions POSTs are one wave. (Chromium
    // lets a GET wait for the same URL's preflight already in flight, so GETs of the second token
    // may start one preflight later; the whole check still fits in 3 round trips.)
    oneWave(bearer.filter((r) => r.path.endsWith(':testIamPermissions') && r.host === CRM_HOST), "both tokens' permission tests");
    const span = Math.max(...all.map((r) => r.endMs)) - Math.min(...all.map((r) => r.startMs));
    assert(span < 3.5 * 250, `both checks took ${Math.round(span)} ms at 250 ms per round trip: `
      + all.map((r) => `${r.isPreflight ? 'OPTIONS' : r.method} ${r.host}${r.path} ${r.sub ?? ''} ${Math.round(r.startMs)}-${Math.round(r.endMs)}`).join('; '));
    await expectScreen(async () => {
      const section = app.page.getByTestId('two-identities');
      assert((await section.count()) === 1, 'no "Two identities" section');
      const text = norm(await section.innerText());
      assert(text.includes('Different accounts') && text.includes(heidi.email) && text.includes(ACCOUNTS.bob.email), text);
      assert(text.includes('Compute Not ready Ready'), `the differences table: ${text}`);
      // It comes before the verdicts.
      const order = await app.page.evaluate(() => {
        const two = document.querySelector('[data-testid="two-identities"]');
        const compute = document.querySelector('[data-testid="verdict-compute"]');
        return Boolean(two.compareDocumentPosition(compute) & Node.DOCUMENT_POSITION_FOLLOWING);
      });
      assert(order, 'the two-identities section is not before the verdicts');
      assertEqual((await app.allVerdicts()).compute, 'Not ready', "Compute as sky check's ADC identity sees it");
    });
    await app.enterCliToken('');
    return `${bearer.length} requests`;
  });
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

    t.test('"Export JSON report" downloads gcp-preflight.report/v1 for the result on screen, without the token', async () => {
      await open();
      const [download] = await Promise.all([
        browser.page.waitForEvent('download', { timeout: 10_000 }),
        app.button('Export JSON report').click({ timeout: 10_000 }),
      ]);
      const file = await download.path();
      const text = fs.readFileSync(file, 'utf8');
      const report = JSON.parse(text);
      assertEqual(report.schema, 'gcp-preflight.report/v1', 'report schema');
      assertEqual(report.project, ctx.project, 'report project');
      assertEqual(report.account_email, ctx.account.email, 'report account');
      const shown = await app.verdicts();
      const labels = { ready: 'Ready', not_ready: 'Not ready', unknown: 'Unknown' };
      const keys = { compute: 'compute', storage: 'storage', managed_jobs: 'managedJobs' };
      for (const v of report.verdicts) {
        if (keys[v.topic]) assertEqual(labels[v.status], shown[keys[v.topic]], `report verdict ${v.topic} matches the screen`);
      }
      assert(report.permissions.length > 0 && report.apis.length > 0, 'report lists permissions and APIs');
      for (const [who, token] of Object.entries(TOKENS)) assert(!text.includes(token), `${who}'s token is in the report`);
      return `${report.permissions.length} permissions, ${report.verdicts.length} verdicts`;
    });

    t.test('fix advice: role data fetched only after a not-ready result, once per page; roles and commands shown and exported', async () => {
      await open();
      await app.reload();
      const roleFetches = [];
      const onRequest = (r) => { if (r.url().includes('/roles/')) roleFetches.push(new URL(r.url()).pathname); };
      browser.page.on('request', onRequest);
      try {
        await app.enterToken(TOKENS.alice);
        await app.waitForIdentity(alice.email);
        await app.enterProject('demo-full-2');
        await app.clickAndSettle('Check');
        assertEqual(await app.verdicts(), ALL_READY, 'verdicts on demo-full-2');
        assertEqual(roleFetches, [], 'role data fetched for an all-Ready result');
        await app.enterProject('demo-seed-1');
        await app.clickAndSettle('Check');
        await poll(async () => (await app.card('compute')).roles.length > 0, { what: 'roles suggested in the Compute card' });
        const compute = await app.card('compute');
        assertEqual(compute.roles, ['roles/compute.securityAdmin'], 'roles suggested for the firewall pair');
        assert(compute.commands.some((c) => c === `gcloud projects add-iam-policy-binding demo-seed-1 --member=user:${alice.email} --role=roles/compute.securityAdmin`),
          `the grant command is not shown: ${JSON.stringify(compute.commands)}`);
        assert((await app.button('Copy all').count()) > 0, 'no "Copy all" button');
        await app.clickAndSettle('Re-check');
        await poll(async () => (await app.card('compute')).roles.length > 0, { what: 'roles after Re-check' });
        assertEqual(roleFetches, ['/roles/skypilot.json'], 'role data requests (once per page, only the small index)');
        const [download] = await Promise.all([
          browser.page.waitForEvent('download', { timeout: 10_000 }),
          app.button('Export JSON report').click({ timeout: 10_000 }),
        ]);
        const report = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
        assertEqual(report.advice.map((a) => a.topic), ['compute', 'managed_jobs'], 'advice in the report');
        assert(JSON.stringify(report.advice[0]).includes('roles/compute.securityAdmin'), 'the report advice names the role');
        return `${roleFetches.length} role-data request`;
      } finally {
        browser.page.off('request', onRequest);
      }
    });

    t.test('"Try the demo", then Check: the seed story without calling Google, and nothing written to the cache', async () => {
      await open();
      await app.reload();
      const keysBefore = Object.keys((await app.storageDump()).localStorage).sort();
      const mark = fake.mark();
      await app.button('Try the demo').click({ timeout: 10_000 });
      await app.clickAndSettle('Check');
      assertEqual(await app.verdicts(), SEED, 'demo verdicts (Alice on the seed project)');
      assertEqual(await app.firstLaunch(), 'Ready', 'demo First launch');
      await fake.settled();
      assertEqual(describe(fake.requestsSince(mark)), '', 'requests to Google during the demo');
      assertEqual(Object.keys((await app.storageDump()).localStorage).sort(), keysBefore, 'localStorage keys after a demo check');
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

    const scenario = (name, fn) => t.test(name, async () => {
      await open();
      return fn({ app, fake, ctx });
    });
    optionScenarios(scenario);
    honestyScenarios(scenario);

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

    t.test("another tab's Re-check is offered to this tab for the same account and project, and shown when taken (storage event)", async () => {
      await open();
      await app.reload();
      await app.enterToken(TOKENS.alice);
      await app.waitForIdentity(alice.email);
      await app.enterProject('demo-seed-1');
      await app.clickAndSettle('Check');
      if (norm(await app.resultAge()).startsWith('Cached')) await app.clickAndSettle('Re-check');
      assert(norm(await app.resultAge()).startsWith('Checked'), 'this tab shows its own fresh result');
      const other = new AppPage(await browser.context.newPage());
      try {
        await other.open(site.url);
        await other.enterToken(TOKENS.alice);
        await other.waitForIdentity(alice.email);
        await other.enterProject('demo-seed-1');
        await other.clickAndSettle('Check');
        await other.clickAndSettle('Re-check');
        // Offered, not swapped in: this tab still shows its own result until the user takes it.
        await app.button('Show newer result').waitFor({ state: 'visible', timeout: 10_000 });
        assert(norm(await app.resultAge()).startsWith('Checked'), "this tab's own result stays until taken");
        await app.button('Show newer result').click({ timeout: 10_000 });
        await poll(async () => norm(await app.resultAge()).startsWith('Cached result: checked'),
          { what: "the first tab to show the other tab's newer result" });
        const got = await app.verdicts();
        assertEqual([got.compute, got.storage, got.managedJobs], ['Not ready', 'Ready', 'Not ready'], 'verdicts after the update');
      } finally {
        await other.page.close();
      }
    });

    t.test('"Clear cached results" removes every cache entry from localStorage', async () => {
      await open();
      const before = Object.keys((await app.storageDump()).localStorage).filter((k) => k.startsWith('gcp-preflight/v1/'));
      assert(before.length > 0, 'expected cached results before clearing');
      await app.button('Clear cached results').click({ timeout: 10_000 });
      await poll(async () => Object.keys((await app.storageDump()).localStorage).every((k) => !k.startsWith('gcp-preflight/v1/')),
        { what: 'no cache entry left in localStorage' });
      return `${before.length} entries removed`;
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
