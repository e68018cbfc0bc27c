// Guards the fake Google itself, without the app: a throwaway page (served by the same static
// server the suite uses) whose script calls every endpoint with fetch, from a real Chromium
// routed to the fake. It shows real CORS preflights, CORS refusing a header Google does not
// allow, the error bodies, latency, 429 injection, the injected faults (legacy rate limits,
// proxy HTML 5xx, dropped connections, tokeninfo without CORS) and the violation detectors.
//
//   cd tests/e2e && npm ci && node selftest.mjs

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import {
  criticalPath, TESTABLE_ON_PROJECT, TESTABLE_ON_BUCKET, TESTABLE_ON_SERVICE_ACCOUNT, CORS_MAX_AGE,
  ADC_CLIENT_ID, GCLOUD_CLIENT_ID, CLOUD_PLATFORM, CLOUD_PLATFORM_READ_ONLY, EMAIL_SCOPE, DEFAULT_BILLING_ACCOUNT,
} from './fake-google.mjs';
import { withEnvironment, createRunner, assert, assertEqual, poll } from './harness.mjs';

const ALICE = 'fake-selftest-token-alice-0123456789abcdef';
const BOB = 'fake-selftest-token-bob-0123456789abcdef';
const STALE = 'fake-selftest-token-stale-0123456789abcdef';
const NARROW = 'fake-selftest-token-narrow-0123456789abcdef';
const READONLY = 'fake-selftest-token-readonly-0123456789abcdef'; // cloud-platform.read-only
const NOEMAIL = 'fake-selftest-token-noemail-0123456789abcdef'; //   cloud-platform, no email scope
const ADC = 'fake-selftest-token-adc-0123456789abcdef'; //           an application-default token, holds nothing

const SCENARIO = {
  accounts: {
    [ALICE]: { sub: '111', email: 'alice@example.com' },
    [BOB]: { sub: '222', email: 'bob@example.com' },
    [STALE]: { sub: '333', email: 'stale@example.com', expired: true },
    [NARROW]: { sub: '444', email: 'narrow@example.com', scopes: ['openid', 'email'] },
    [READONLY]: { sub: '555', email: 'ro@example.com', scopes: ['openid', EMAIL_SCOPE, CLOUD_PLATFORM_READ_ONLY] },
    [NOEMAIL]: { sub: '666', email: 'noemail@example.com', scopes: [CLOUD_PLATFORM] },
    [ADC]: { sub: '777', email: 'adc@example.com', azp: ADC_CLIENT_ID },
  },
  projects: {
    'proj-a': {
      number: '123456789012',
      grants: { 111: ['compute.instances.create', 'storage.buckets.create', 'serviceusage.services.get'], 222: ['*'], 444: ['*'], 555: ['*'] },
      enabledServices: ['compute.googleapis.com', 'iam.googleapis.com'],
    },
    // alice sees it but lacks serviceusage.services.get
    'proj-su-denied': { number: '555', grants: { 111: ['compute.instances.create'] }, enabledServices: [] },
    'proj-hidden': { number: '999', grants: { 222: ['*'] } },
    // The new endpoints: alice may list services, read billing and the policy, list networks.
    'proj-list': {
      number: '200000000001',
      grants: { 111: ['serviceusage.services.list', 'resourcemanager.projects.get', 'resourcemanager.projects.getIamPolicy', 'compute.networks.list'] },
      enabledServices: ['compute.googleapis.com', 'bigquerystorage.googleapis.com', 'iam.googleapis.com', 'storage.googleapis.com', 'tpu.googleapis.com'],
      bindings: [
        { role: 'roles/owner', members: ['user:alice@example.com'] },
        { role: 'roles/iam.serviceAccountUser', members: ['serviceAccount:sa@proj-a.iam.gserviceaccount.com', 'user:bob@example.com'] },
      ],
    },
    'proj-nobill': {
      number: '200000000002', billing: false, networks: [], enabledServices: ['compute.googleapis.com'],
      grants: { 111: ['resourcemanager.projects.get', 'compute.networks.list'] },
    },
    'proj-compute-off': { number: '200000000003', grants: { 111: ['*'] }, enabledServices: [] },
    // owns bucket-owned and the service accounts below: alice's grants here reach them
    'proj-owner': {
      number: '200000000004', enabledServices: ['compute.googleapis.com'],
      grants: { 111: ['storage.objects.get', 'iam.serviceAccounts.get', 'iam.serviceAccounts.actAs', 'compute.instances.create'] },
    },
  },
  buckets: {
    'bucket-a': { grants: { 111: ['storage.objects.get'], 222: ['*'] } },
    'bucket-owned': { project: 'proj-owner', grants: { 222: ['storage.objects.list'] } },
    'bucket-elsewhere': { project: 'proj-hidden', grants: {} }, // alice holds nothing on proj-hidden
  },
  serviceAccounts: {
    'sa@proj-a.iam.gserviceaccount.com': { grants: { 111: ['iam.serviceAccounts.actAs'] } },
    'sa-owned@proj-owner.iam.gserviceaccount.com': { grants: {} },
    'sa-elsewhere@proj-hidden.iam.gserviceaccount.com': { grants: {} },
    '200000000004-compute@developer.gserviceaccount.com': { project: 'proj-owner', uniqueId: '100000000000000000042', grants: {} },
  },
};

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>fake-google self-test</title></head>
<body><p>fake-google self-test</p>
<script>
  // Calls one endpoint like the app does; returns what JavaScript can see.
  window.call = async ({ url, method = 'GET', token, json, form, headers = {} }) => {
    const h = { ...headers };
    if (token) h['Authorization'] = 'Bearer ' + token;
    let body;
    if (json !== undefined) { h['Content-Type'] = 'application/json'; body = JSON.stringify(json); }
    if (form !== undefined) { h['Content-Type'] = 'application/x-www-form-urlencoded'; body = new URLSearchParams(form).toString(); }
    const t0 = performance.now();
    try {
      const res = await fetch(url, { method, headers: h, body });
      const text = await res.text();
      let parsed = null;
      try { parsed = JSON.parse(text); } catch {}
      return { ok: true, status: res.status, body: parsed, text, ms: performance.now() - t0 };
    } catch (e) {
      return { ok: false, error: String(e), ms: performance.now() - t0 };
    }
  };
</script></body></html>`;

const CRM = (p) => `https://cloudresourcemanager.googleapis.com/v1/projects/${p}:testIamPermissions`;
const SU = (p, services) => `https://serviceusage.googleapis.com/v1/projects/${p}/services:batchGet?`
  + services.map((s) => `names=${encodeURIComponent(`projects/${p}/services/${s}`)}&`).join('')
  + 'fields=services(name%2Cstate)';
const GCS = (b, perms) => `https://storage.googleapis.com/storage/v1/b/${b}/iam/testPermissions?`
  + perms.map((p) => `permissions=${encodeURIComponent(p)}`).join('&');
const IAM = (sa) => `https://iam.googleapis.com/v1/projects/-/serviceAccounts/${encodeURIComponent(sa)}:testIamPermissions`;
const TOKENINFO = 'https://oauth2.googleapis.com/tokeninfo';
const SU_LIST = (p, pageToken) => `https://serviceusage.googleapis.com/v1/projects/${p}/services?filter=state:ENABLED&pageSize=200&fields=services(name),nextPageToken`
  + (pageToken ? `&pageToken=${encodeURIComponent(pageToken)}` : '');
const BILLING = (p) => `https://cloudbilling.googleapis.com/v1/projects/${p}/billingInfo`;
const SA_GET = (sa) => `https://iam.googleapis.com/v1/projects/-/serviceAccounts/${encodeURIComponent(sa)}`;
const GET_POLICY = (p) => `https://cloudresourcemanager.googleapis.com/v1/projects/${p}:getIamPolicy`;
const POLICY_REQUEST = { options: { requestedPolicyVersion: 3 } };
const NETWORKS = (p) => `https://compute.googleapis.com/compute/v1/projects/${p}/global/networks?fields=items(name),nextPageToken&maxResults=500`;
const SA_DENIED = {
  error: {
    code: 403,
    message: "Permission 'iam.serviceAccounts.get' denied on resource (or it may not exist).",
    status: 'PERMISSION_DENIED',
    details: [{
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'IAM_PERMISSION_DENIED', domain: 'iam.googleapis.com',
      metadata: { permission: 'iam.serviceAccounts.get' },
    }],
  },
};
const CALLER_DENIED = { error: { code: 403, message: 'The caller does not have permission', status: 'PERMISSION_DENIED' } };

async function main() {
  const pageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-google-selftest-'));
  fs.writeFileSync(path.join(pageDir, 'index.html'), PAGE);
  let failed = 1;
  try {
    failed = await withEnvironment(pageDir, (env) => selftest(env));
  } finally {
    fs.rmSync(pageDir, { recursive: true, force: true });
  }
  process.exit(failed ? 1 : 0);
}

async function selftest({ site, fake, browser }) {
  fake.setScenario(SCENARIO);
  const { page } = browser;
  await page.goto(site.url);
  const call = (opts) => page.evaluate((o) => window.call(o), opts);
  // Runs `fn` and returns what reached the fake meanwhile.
  const observe = async (fn) => {
    const mark = fake.mark();
    const out = await fn();
    await fake.settled();
    return { out, reqs: fake.requestsSince(mark) };
  };
  const t = createRunner();

  t.test('tokeninfo: form POST is a simple request (no preflight) and answers the account', async () => {
    const { out, reqs } = await observe(() => call({ url: TOKENINFO, method: 'POST', form: { access_token: ALICE } }));
    assertEqual(out.status, 200, 'status');
    assertEqual([out.body.sub, out.body.email, out.body.email_verified], ['111', 'alice@example.com', 'true'], 'identity');
    assert(/cloud-platform/.test(out.body.scope) && /^\d+$/.test(out.body.exp) && /^\d+$/.test(out.body.expires_in), 'scope/exp/expires_in');
    assertEqual(reqs.map((r) => [r.method, r.host, r.path, r.isPreflight, r.hasAuthorization]),
      [['POST', 'oauth2.googleapis.com', '/tokeninfo', false, false]], 'requests');
  });

  t.test('tokeninfo: unknown and expired tokens answer 400 invalid_token, readable through CORS', async () => {
    for (const token of ['fake-never-issued-0000000000', STALE]) {
      const out = await call({ url: TOKENINFO, method: 'POST', form: { access_token: token } });
      assertEqual([out.status, out.body], [400, { error: 'invalid_token', error_description: 'Invalid Value' }], token);
    }
  });

  let preflightCached = false;
  t.test(`CRM: a Bearer POST is preflighted; same URL again reuses the preflight (Max-Age ${CORS_MAX_AGE})`, async () => {
    const url = CRM('proj-a');
    const json = { permissions: ['compute.instances.create', 'compute.instances.delete', 'storage.buckets.create'] };
    const first = await observe(() => call({ url, method: 'POST', token: ALICE, json }));
    assertEqual(first.out.status, 200, 'status');
    assertEqual(first.out.body, { permissions: ['compute.instances.create', 'storage.buckets.create'] }, 'held subset');
    assertEqual(first.reqs.map((r) => [r.method, r.isPreflight, r.hasAuthorization]),
      [['OPTIONS', true, false], ['POST', false, true]], 'preflight then POST');
    assertEqual(first.reqs[0].requestedHeaders, ['authorization', 'content-type'], 'requested headers');
    const second = await observe(() => call({ url, method: 'POST', token: ALICE, json }));
    preflightCached = second.reqs.every((r) => !r.isPreflight);
    assertEqual(second.reqs.map((r) => [r.method, r.isPreflight]), [['POST', false]], 'second call: preflight cached by Chromium');
    const other = await observe(() => call({ url: CRM('proj-hidden'), method: 'POST', token: ALICE, json }));
    assert(other.reqs[0].isPreflight, 'a different URL needs its own preflight (the cache is keyed by URL)');
    return 'preflight cache observed';
  });

  t.test('CRM: none held -> {}; hidden / unknown project -> 403 PERMISSION_DENIED', async () => {
    const none = await call({ url: CRM('proj-a'), method: 'POST', token: ALICE, json: { permissions: ['compute.disks.list'] } });
    assertEqual([none.status, none.body], [200, {}], 'none held');
    for (const p of ['proj-hidden', 'no-such-project']) {
      const out = await call({ url: CRM(p), method: 'POST', token: ALICE, json: { permissions: ['compute.disks.list'] } });
      assertEqual([out.status, out.body.error.status, out.body.error.message], [403, 'PERMISSION_DENIED', 'The caller does not have permission'], p);
    }
  });

  t.test('CRM: untestable permission -> 400 naming only the first; retry without it works; >100 -> 400', async () => {
    const asked = ['compute.instances.create', 'resourcemanager.projects.create', 'billing.accounts.get'];
    const out = await call({ url: CRM('proj-a'), method: 'POST', token: ALICE, json: { permissions: asked } });
    assertEqual([out.status, out.body.error.status, out.body.error.message],
      [400, 'INVALID_ARGUMENT', 'Permission resourcemanager.projects.create is not valid for this resource.'], 'first bad');
    const again = await call({ url: CRM('proj-a'), method: 'POST', token: ALICE, json: { permissions: [asked[0], asked[2]] } });
    assert(again.body.error.message.includes('billing.accounts.get'), 'second bad named next');
    const ok = await call({ url: CRM('proj-a'), method: 'POST', token: ALICE, json: { permissions: [asked[0]] } });
    assertEqual(ok.body, { permissions: ['compute.instances.create'] }, 'retry');
    const many = Array.from({ length: 101 }, (_, i) => TESTABLE_ON_PROJECT[i % TESTABLE_ON_PROJECT.length]);
    const big = await call({ url: CRM('proj-a'), method: 'POST', token: BOB, json: { permissions: many } });
    assertEqual([big.status, big.body.error.status], [400, 'INVALID_ARGUMENT'], '>100');
  });

  t.test('Service Usage batchGet: names come back with the project NUMBER and their state', async () => {
    const out = await call({ url: SU('proj-a', ['compute.googleapis.com', 'cloudresourcemanager.googleapis.com']), token: ALICE });
    assertEqual(out.body, { services: [
      { name: 'projects/123456789012/services/compute.googleapis.com', state: 'ENABLED' },
      { name: 'projects/123456789012/services/cloudresourcemanager.googleapis.com', state: 'DISABLED' },
    ] }, 'services');
  });

  t.test('Service Usage batchGet without serviceusage.services.get: 403 IAM_PERMISSION_DENIED naming it', async () => {
    const { out, reqs } = await observe(() => call({ url: SU('proj-su-denied', ['compute.googleapis.com']), token: ALICE }));
    const e = out.body.error;
    assertEqual([out.status, e.status, e.message], [403, 'PERMISSION_DENIED',
      "Permission 'serviceusage.services.get' denied on resource '//serviceusage.googleapis.com/projects/proj-su-denied' (or it may not exist)."], 'error');
    assertEqual([e.details[0].reason, e.details[0].domain, e.details[0].metadata],
      ['IAM_PERMISSION_DENIED', 'serviceusage.googleapis.com', { permission: 'serviceusage.services.get', resource: 'projects/proj-su-denied' }], 'ErrorInfo');
    assertEqual(reqs.filter((r) => !r.isPreflight).map((r) => r.services), [['compute.googleapis.com']], 'services recorded in the log');
  });

  t.test('the log records what was asked: CRM / IAM body and permissions, storage query permissions', async () => {
    const json = { permissions: ['compute.instances.create', 'compute.disks.list'] };
    const crm = await observe(() => call({ url: CRM('proj-a'), method: 'POST', token: ALICE, json }));
    const post = crm.reqs.find((r) => !r.isPreflight);
    assertEqual([JSON.parse(post.body), post.permissions], [json, json.permissions], 'CRM');
    const gcs = await observe(() => call({ url: GCS('bucket-a', ['storage.objects.get', 'storage.objects.list']), token: ALICE }));
    assertEqual(gcs.reqs.find((r) => !r.isPreflight).permissions, ['storage.objects.get', 'storage.objects.list'], 'storage');
    const tok = await observe(() => call({ url: TOKENINFO, method: 'POST', form: { access_token: ALICE } }));
    assertEqual(tok.reqs[0].body, null, 'tokeninfo body (it carries the token) is not kept');
  });

  t.test('Storage testPermissions: held list, key ABSENT when none, 404 unknown bucket, 400 legacy for non-storage', async () => {
    const some = await call({ url: GCS('bucket-a', ['storage.objects.get', 'storage.objects.create']), token: ALICE });
    assertEqual(some.body, { kind: 'storage#testIamPermissionsResponse', permissions: ['storage.objects.get'] }, 'some');
    const none = await call({ url: GCS('bucket-a', ['storage.objects.create']), token: ALICE });
    assertEqual(none.body, { kind: 'storage#testIamPermissionsResponse' }, 'none');
    const missing = await call({ url: GCS('no-bucket', ['storage.objects.get']), token: ALICE });
    assertEqual([missing.status, missing.body.error.errors[0].reason], [404, 'notFound'], '404');
    const bad = await call({ url: GCS('bucket-a', ['logging.buckets.get']), token: ALICE });
    assertEqual([bad.status, bad.body.error.message, bad.body.error.errors[0].reason],
      [400, 'logging.buckets.get is not a valid Google Cloud Storage permission.', 'invalid'], '400');
  });

  t.test('IAM service account testIamPermissions: actAs held / {} / 403 (not 404) for a missing one', async () => {
    const json = { permissions: ['iam.serviceAccounts.actAs'] };
    const held = await call({ url: IAM('sa@proj-a.iam.gserviceaccount.com'), method: 'POST', token: ALICE, json });
    assertEqual(held.body, { permissions: ['iam.serviceAccounts.actAs'] }, 'held');
    const none = await call({ url: IAM('sa@proj-a.iam.gserviceaccount.com'), method: 'POST', token: ADC, json });
    assertEqual([none.status, none.body], [200, {}], 'none');
    // IAM v1 discovery: projects/-/serviceAccounts/<missing> answers 403, not 404 (BROWSER-FACTS flag 4).
    const unknown = await call({ url: IAM('nobody@proj-a.iam.gserviceaccount.com'), method: 'POST', token: ALICE, json });
    assertEqual([unknown.status, unknown.body], [403, SA_DENIED], 'missing service account');
  });

  t.test('CORS: x-goog-user-project passes the preflight; x-foo is refused and never reaches the fake', async () => {
    const ok = await call({ url: SU('proj-a', ['iam.googleapis.com']), token: ALICE, headers: { 'X-Goog-User-Project': 'proj-a' } });
    assertEqual(ok.status, 200, 'allowed header');
    const { out, reqs } = await observe(() => call({ url: SU('proj-a', ['compute.googleapis.com']), token: ALICE, headers: { 'X-Foo': '1' } }));
    assert(!out.ok && /TypeError|Failed to fetch/.test(out.error), `fetch must fail, got ${JSON.stringify(out)}`);
    assertEqual(reqs.map((r) => [r.method, r.isPreflight, r.corsRefusedHeaders]), [['OPTIONS', true, ['x-foo']]], 'only the refused preflight');
  });

  t.test('errors: expired 401 ACCESS_TOKEN_EXPIRED, unknown token 401 ACCESS_TOKEN_TYPE_UNSUPPORTED, narrow scope 403, on every endpoint', async () => {
    const urls = [
      [CRM('proj-a'), 'POST', { permissions: ['compute.disks.list'] }],
      [SU('proj-a', ['compute.googleapis.com']), 'GET'],
      [GCS('bucket-a', ['storage.objects.get']), 'GET'],
      [IAM('sa@proj-a.iam.gserviceaccount.com'), 'POST', { permissions: ['iam.serviceAccounts.actAs'] }],
      [SA_GET('sa@proj-a.iam.gserviceaccount.com'), 'GET'],
      [SU_LIST('proj-a'), 'GET'],
      [BILLING('proj-a'), 'GET'],
      [GET_POLICY('proj-a'), 'POST', POLICY_REQUEST],
      [NETWORKS('proj-a'), 'GET'],
    ];
    for (const [url, method, json] of urls) {
      const host = new URL(url).host;
      const out = await call({ url, method, token: STALE, json });
      const e = out.body?.error;
      assertEqual([out.status, e?.status, e?.details?.[0]?.reason, e?.details?.[0]?.metadata?.service],
        [401, 'UNAUTHENTICATED', 'ACCESS_TOKEN_EXPIRED', host], `expired on ${host}`);
      const bad = await call({ url, method, token: 'fake-never-issued-0000000000', json });
      assertEqual([bad.status, bad.body.error.details[0].reason], [401, 'ACCESS_TOKEN_TYPE_UNSUPPORTED'], `invalid on ${host}`);
      const narrow = await call({ url, method, token: NARROW, json });
      assertEqual([narrow.status, narrow.body.error.details[0].reason], [403, 'ACCESS_TOKEN_SCOPE_INSUFFICIENT'], `scope on ${host}`);
    }
    // The browser cannot read www-authenticate (not exposed); check it from Node.
    const headers = await new Promise((resolve, reject) => {
      const req = https.request({
        host: '127.0.0.1', port: fake.port, method: 'GET', path: '/storage/v1/b/bucket-a/iam/testPermissions?permissions=storage.objects.get',
        servername: 'storage.googleapis.com', headers: { host: 'storage.googleapis.com', authorization: `Bearer ${STALE}` }, rejectUnauthorized: false,
      }, (res) => { res.resume(); resolve(res.headers); });
      req.on('error', reject);
      req.end();
    });
    assertEqual(headers['www-authenticate'], 'Bearer realm="https://accounts.google.com/", error="invalid_token"', 'www-authenticate');
  });

  t.test('errors: SERVICE_DISABLED in the consumer project names service, consumer, activation link', async () => {
    fake.disableInConsumer('cloudresourcemanager.googleapis.com');
    try {
      const out = await call({ url: CRM('proj-a'), method: 'POST', token: ALICE, json: { permissions: ['compute.disks.list'] } });
      const e = out.body.error;
      assertEqual([out.status, e.status], [403, 'PERMISSION_DENIED'], 'status');
      assert(e.message.startsWith('Cloud Resource Manager API has not been used in project 764086051850 before or it is disabled.'), e.message);
      assertEqual(e.details.map((d) => d['@type'].split('.').pop()), ['ErrorInfo', 'LocalizedMessage', 'Help'], 'details');
      assertEqual([e.details[0].reason, e.details[0].metadata.consumer, e.details[0].metadata.service, e.details[0].metadata.serviceTitle],
        ['SERVICE_DISABLED', 'projects/764086051850', 'cloudresourcemanager.googleapis.com', 'Cloud Resource Manager API'], 'ErrorInfo');
      assertEqual(e.details[2].links[0].url, 'https://console.developers.google.com/apis/api/cloudresourcemanager.googleapis.com/overview?project=764086051850', 'Help link');
      const other = await call({ url: SU('proj-a', ['compute.googleapis.com']), token: ALICE });
      assertEqual(other.status, 200, 'other hosts unaffected');
    } finally {
      fake.disableInConsumer('cloudresourcemanager.googleapis.com', false);
    }
  });

  t.test('errors: failNext(2) -> two 429 RATE_LIMIT_EXCEEDED, then normal answers', async () => {
    fake.failNext(2);
    const statuses = [];
    for (let i = 0; i < 3; i += 1) {
      const out = await call({ url: CRM('proj-a'), method: 'POST', token: ALICE, json: { permissions: ['compute.instances.create'] } });
      statuses.push(out.status);
      if (out.status === 429) {
        assertEqual([out.body.error.status, out.body.error.details[0].reason], ['RESOURCE_EXHAUSTED', 'RATE_LIMIT_EXCEEDED'], '429 body');
      }
    }
    assertEqual(statuses, [429, 429, 200], 'statuses');
  });

  t.test('tokeninfo: azp / aud name the client (CLI by default, ADC per account); no email scope -> no sub/email', async () => {
    const cli = await call({ url: TOKENINFO, method: 'POST', form: { access_token: ALICE } });
    assertEqual([cli.body.azp, cli.body.aud], [GCLOUD_CLIENT_ID, GCLOUD_CLIENT_ID], 'gcloud CLI token');
    const adc = await call({ url: TOKENINFO, method: 'POST', form: { access_token: ADC } });
    assertEqual([adc.body.azp, adc.body.aud, adc.body.sub, adc.body.email], [ADC_CLIENT_ID, ADC_CLIENT_ID, '777', 'adc@example.com'], 'ADC token');
    // samples/tokeninfo_no_email_scope.txt: azp, aud, scope, exp, expires_in, access_type only.
    const bare = await call({ url: TOKENINFO, method: 'POST', form: { access_token: NOEMAIL } });
    assertEqual([bare.status, Object.keys(bare.body)], [200, ['azp', 'aud', 'scope', 'exp', 'expires_in', 'access_type']], 'no email scope');
    assertEqual(bare.body.scope, CLOUD_PLATFORM, 'scope');
  });

  t.test('tokeninfo without CORS headers (tokeninfoCors: false): the browser sees a network error', async () => {
    fake.patchScenario((s) => { s.tokeninfoCors = false; });
    try {
      const { out, reqs } = await observe(() => call({ url: TOKENINFO, method: 'POST', form: { access_token: ALICE } }));
      assert(!out.ok && /TypeError|Failed to fetch/.test(out.error), `fetch must fail, got ${JSON.stringify(out)}`);
      assertEqual(reqs.map((r) => [r.kind, r.status, r.cors]), [['tokeninfo', 200, false]], 'answered, without CORS');
    } finally {
      fake.patchScenario((s) => { s.tokeninfoCors = true; });
    }
    const again = await call({ url: TOKENINFO, method: 'POST', form: { access_token: ALICE } });
    assertEqual(again.status, 200, 'back to normal');
  });

  t.test('CRM: an unknown permission name -> 400 naming it', async () => {
    const out = await call({ url: CRM('proj-a'), method: 'POST', token: ALICE, json: { permissions: ['compute.instances.create', 'compute.thingz.get'] } });
    assertEqual([out.status, out.body.error.status, out.body.error.message],
      [400, 'INVALID_ARGUMENT', 'Permission compute.thingz.get is not valid for this resource.'], 'unknown name');
  });

  t.test('Service Usage list: enabled names with the project NUMBER, any names, servicesPageSize pages', async () => {
    const { out, reqs } = await observe(() => call({ url: SU_LIST('proj-list'), token: ALICE }));
    assertEqual([out.status, out.body], [200, { services: [
      'compute.googleapis.com', 'bigquerystorage.googleapis.com', 'iam.googleapis.com', 'storage.googleapis.com', 'tpu.googleapis.com',
    ].map((s) => ({ name: `projects/200000000001/services/${s}` })) }], 'one page, no nextPageToken');
    assertEqual(reqs.map((r) => [r.kind, r.target, r.isPreflight]),
      [['serviceusage.list', 'proj-list', true], ['serviceusage.list', 'proj-list', false]], 'log kind / target');
    fake.patchScenario((s) => { s.servicesPageSize = 2; });
    try {
      const names = [];
      const tokens = [];
      let token;
      for (let i = 0; i < 5; i += 1) {
        const page = await call({ url: SU_LIST('proj-list', token), token: ALICE });
        assertEqual(page.status, 200, `page ${i}`);
        names.push(...page.body.services.map((s) => s.name.split('/').pop()));
        token = page.body.nextPageToken;
        tokens.push(token);
        if (!token) break;
      }
      assertEqual(names, ['compute.googleapis.com', 'bigquerystorage.googleapis.com', 'iam.googleapis.com', 'storage.googleapis.com', 'tpu.googleapis.com'], 'all pages');
      assertEqual(tokens.map((x) => typeof x), ['string', 'string', 'undefined'], '3 pages, the last without nextPageToken');
      const last = fake.requests().filter((r) => r.kind === 'serviceusage.list' && !r.isPreflight).at(-1);
      assertEqual(last.pageToken, tokens[1], 'pageToken in the log');
    } finally {
      fake.patchScenario((s) => { s.servicesPageSize = 200; });
    }
    const none = await call({ url: SU_LIST('proj-compute-off'), token: ALICE });
    assertEqual([none.status, none.body], [200, {}], 'nothing enabled -> {}');
  });

  t.test('Service Usage list without serviceusage.services.list, or on an unknown project: 403 IAM_PERMISSION_DENIED', async () => {
    for (const p of ['proj-su-denied', 'no-such-project', 'proj-hidden']) {
      const out = await call({ url: SU_LIST(p), token: ALICE });
      const e = out.body.error;
      assertEqual([out.status, e.status, e.message], [403, 'PERMISSION_DENIED',
        `Permission 'serviceusage.services.list' denied on resource '//serviceusage.googleapis.com/projects/${p}' (or it may not exist).`], p);
      assertEqual([e.details[0].reason, e.details[0].domain, e.details[0].metadata.permission],
        ['IAM_PERMISSION_DENIED', 'serviceusage.googleapis.com', 'serviceusage.services.list'], `${p} ErrorInfo`);
    }
    // batchGet on a project the caller cannot see answers the same way (AIP-211).
    const hidden = await call({ url: SU('proj-hidden', ['compute.googleapis.com']), token: ALICE });
    assertEqual([hidden.status, hidden.body.error.details[0].metadata.permission], [403, 'serviceusage.services.get'], 'batchGet hidden');
  });

  t.test('Cloud Billing getBillingInfo: linked / not linked (fields left out) / 403 without resourcemanager.projects.get', async () => {
    const { out, reqs } = await observe(() => call({ url: BILLING('proj-list'), token: ALICE }));
    assertEqual([out.status, out.body], [200, {
      name: 'projects/proj-list/billingInfo', projectId: 'proj-list', billingAccountName: DEFAULT_BILLING_ACCOUNT, billingEnabled: true,
    }], 'billing on');
    assertEqual(reqs.map((r) => [r.kind, r.isPreflight, r.hasAuthorization]),
      [['billing.getBillingInfo', true, false], ['billing.getBillingInfo', false, true]], 'preflighted Bearer GET');
    const off = await call({ url: BILLING('proj-nobill'), token: ALICE });
    assertEqual([off.status, off.body], [200, { name: 'projects/proj-nobill/billingInfo', projectId: 'proj-nobill' }], 'billing off');
    for (const p of ['proj-su-denied', 'no-such-project']) {
      const denied = await call({ url: BILLING(p), token: ALICE });
      assertEqual([denied.status, denied.body], [403, CALLER_DENIED], p);
    }
    // getBillingInfo's scopes are cloud-platform / cloud-billing(.readonly): not cloud-platform.read-only.
    const ro = await call({ url: BILLING('proj-a'), token: READONLY });
    assertEqual([ro.status, ro.body.error.details[0].reason], [403, 'ACCESS_TOKEN_SCOPE_INSUFFICIENT'], 'read-only token');
  });

  t.test('IAM serviceAccounts.get: 200 via the SA\'s own project; missing or forbidden -> the same 403', async () => {
    const { out, reqs } = await observe(() => call({ url: SA_GET('sa-owned@proj-owner.iam.gserviceaccount.com'), token: ALICE }));
    assertEqual(out.status, 200, 'status');
    const b = out.body;
    assertEqual([b.name, b.projectId, b.email], ['projects/proj-owner/serviceAccounts/sa-owned@proj-owner.iam.gserviceaccount.com',
      'proj-owner', 'sa-owned@proj-owner.iam.gserviceaccount.com'], 'name / projectId / email');
    assert(/^1\d{20}$/.test(b.uniqueId) && b.oauth2ClientId === b.uniqueId, `uniqueId / oauth2ClientId: ${JSON.stringify(b)}`);
    assertEqual(reqs.filter((r) => !r.isPreflight).map((r) => [r.kind, r.target]),
      [['iam.serviceAccounts.get', 'sa-owned@proj-owner.iam.gserviceaccount.com']], 'log');
    const explicit = await call({ url: SA_GET('200000000004-compute@developer.gserviceaccount.com'), token: ALICE });
    assertEqual([explicit.body.name, explicit.body.uniqueId], ['projects/proj-owner/serviceAccounts/200000000004-compute@developer.gserviceaccount.com',
      '100000000000000000042'], 'explicit project and uniqueId');
    for (const sa of ['nobody@proj-owner.iam.gserviceaccount.com', 'sa-elsewhere@proj-hidden.iam.gserviceaccount.com']) {
      const denied = await call({ url: SA_GET(sa), token: ALICE });
      assertEqual([denied.status, denied.body], [403, SA_DENIED], sa);
    }
  });

  t.test('IAM: a service account inherits its OWN project\'s grants; read-only tokens get 403 SCOPE_INSUFFICIENT', async () => {
    const json = { permissions: [...TESTABLE_ON_SERVICE_ACCOUNT] };
    const bob = await call({ url: IAM('sa@proj-a.iam.gserviceaccount.com'), method: 'POST', token: BOB, json });
    assertEqual(bob.body, { permissions: [...TESTABLE_ON_SERVICE_ACCOUNT] }, "bob's '*' on proj-a");
    const alice = await call({ url: IAM('sa-owned@proj-owner.iam.gserviceaccount.com'), method: 'POST', token: ALICE, json });
    assertEqual(alice.body, { permissions: ['iam.serviceAccounts.actAs', 'iam.serviceAccounts.get'] }, "alice's grants on proj-owner");
    const elsewhere = await call({ url: IAM('sa-elsewhere@proj-hidden.iam.gserviceaccount.com'), method: 'POST', token: ALICE, json });
    assertEqual(elsewhere.body, {}, 'nothing on proj-hidden: nothing');
    for (const [url, method, body] of [[IAM('sa@proj-a.iam.gserviceaccount.com'), 'POST', json], [SA_GET('sa@proj-a.iam.gserviceaccount.com'), 'GET']]) {
      const ro = await call({ url, method, token: READONLY, json: body });
      const e = ro.body.error;
      assertEqual([ro.status, e.status, e.message, e.details[0].reason, e.details[0].metadata.service],
        [403, 'PERMISSION_DENIED', 'Request had insufficient authentication scopes.', 'ACCESS_TOKEN_SCOPE_INSUFFICIENT', 'iam.googleapis.com'], `${method} read-only`);
    }
  });

  t.test('CRM getIamPolicy: the project\'s bindings; 403 without resourcemanager.projects.getIamPolicy', async () => {
    const { out, reqs } = await observe(() => call({ url: GET_POLICY('proj-list'), method: 'POST', token: ALICE, json: POLICY_REQUEST }));
    assertEqual([out.status, out.body], [200, {
      version: 1, etag: 'BwXXXX=', bindings: SCENARIO.projects['proj-list'].bindings,
    }], 'policy');
    const post = reqs.find((r) => !r.isPreflight);
    assertEqual([post.kind, post.target, JSON.parse(post.body)], ['crm.getIamPolicy', 'proj-list', POLICY_REQUEST], 'log');
    const empty = await call({ url: GET_POLICY('proj-a'), method: 'POST', token: READONLY, json: POLICY_REQUEST });
    assertEqual([empty.status, empty.body], [200, { version: 1, etag: 'BwXXXX=' }], 'no bindings (read-only scope is enough for CRM)');
    for (const p of ['proj-a', 'proj-hidden', 'no-such-project']) {
      const denied = await call({ url: GET_POLICY(p), method: 'POST', token: ALICE, json: POLICY_REQUEST });
      assertEqual([denied.status, denied.body], [403, CALLER_DENIED], p);
    }
  });

  t.test('Compute networks.list: items / {} / legacy 403 forbidden / SERVICE_DISABLED naming the project number', async () => {
    const { out, reqs } = await observe(() => call({ url: NETWORKS('proj-list'), token: ALICE }));
    assertEqual([out.status, out.body], [200, { items: [{ name: 'default' }] }], 'default network');
    assertEqual(reqs.filter((r) => !r.isPreflight).map((r) => [r.kind, r.target]), [['compute.networks.list', 'proj-list']], 'log');
    const none = await call({ url: NETWORKS('proj-nobill'), token: ALICE });
    assertEqual([none.status, none.body], [200, {}], 'no networks');
    for (const p of ['proj-a', 'no-such-project']) {
      const denied = await call({ url: NETWORKS(p), token: ALICE });
      const message = `Required 'compute.networks.list' permission for 'projects/${p}'`;
      assertEqual([denied.status, denied.body], [403, { error: { code: 403, message, errors: [{ message, domain: 'global', reason: 'forbidden' }] } }], p);
    }
    const off = await call({ url: NETWORKS('proj-compute-off'), token: ALICE });
    const e = off.body.error;
    assertEqual([off.status, e.status, e.details[0].reason, e.details[0].metadata.consumer, e.details[0].metadata.service, e.details[0].metadata.serviceTitle],
      [403, 'PERMISSION_DENIED', 'SERVICE_DISABLED', 'projects/200000000003', 'compute.googleapis.com', 'Compute Engine API'], 'compute off');
    const ro = await call({ url: NETWORKS('proj-a'), token: READONLY });
    assertEqual([ro.status, ro.body.error.details[0].reason], [403, 'ACCESS_TOKEN_SCOPE_INSUFFICIENT'], 'read-only token');
  });

  t.test('Storage: a bucket inherits storage.* grants from its OWN project only', async () => {
    const all = TESTABLE_ON_BUCKET;
    const owned = await call({ url: GCS('bucket-owned', all), token: ALICE });
    assertEqual(owned.body, { kind: 'storage#testIamPermissionsResponse', permissions: ['storage.objects.get'] }, 'alice via proj-owner');
    const bobOwned = await call({ url: GCS('bucket-owned', all), token: BOB });
    assertEqual(bobOwned.body.permissions, ['storage.objects.list'], 'bob: bucket-level only');
    // alice holds storage.objects.get on proj-owner and more on proj-a: none of it reaches a
    // bucket owned by proj-hidden.
    const elsewhere = await call({ url: GCS('bucket-elsewhere', all), token: ALICE });
    assertEqual(elsewhere.body, { kind: 'storage#testIamPermissionsResponse' }, 'alice: nothing');
    const bobElsewhere = await call({ url: GCS('bucket-elsewhere', all), token: BOB });
    assertEqual(bobElsewhere.body.permissions, all, "bob's '*' on proj-hidden");
  });

  t.test('faults: legacy 403 rateLimitExceeded / userRateLimitExceeded, once each, matched by kind', async () => {
    fake.injectFault({ type: 'rateLimitExceeded', kind: 'serviceusage.list' });
    fake.injectFault({ type: 'userRateLimitExceeded', kind: 'serviceusage.list' });
    const bodies = [];
    for (let i = 0; i < 3; i += 1) bodies.push(await call({ url: SU_LIST('proj-list'), token: ALICE }));
    assertEqual(bodies.map((b) => b.status), [403, 403, 200], 'statuses');
    for (const [b, reason, message] of [[bodies[0], 'rateLimitExceeded', 'Rate Limit Exceeded'], [bodies[1], 'userRateLimitExceeded', 'User Rate Limit Exceeded']]) {
      assertEqual(b.body, { error: { errors: [{ domain: 'usageLimits', reason, message }], code: 403, message } }, reason);
    }
    const other = await call({ url: BILLING('proj-list'), token: ALICE });
    assertEqual(other.status, 200, 'other kinds unaffected');
    assertEqual(fake.requests().filter((r) => r.fault).slice(-2).map((r) => r.fault), ['rateLimitExceeded', 'userRateLimitExceeded'], 'fault in the log');
  });

  t.test('faults: proxy HTML 502 readable with CORS; 503 without CORS is a network error; 504', async () => {
    fake.injectFault({ type: 'html502', host: 'compute.googleapis.com' });
    const bad = await call({ url: NETWORKS('proj-list'), token: ALICE });
    assertEqual([bad.status, bad.body], [502, null], 'status, not JSON');
    assert(bad.text.includes('<title>502 Bad Gateway</title>'), bad.text);
    fake.injectFault({ type: 'html503', kind: 'billing.getBillingInfo', target: 'proj-list', cors: false });
    const { out, reqs } = await observe(() => call({ url: BILLING('proj-list'), token: ALICE }));
    assert(!out.ok && /TypeError|Failed to fetch/.test(out.error), `fetch must fail, got ${JSON.stringify(out)}`);
    assertEqual(reqs.filter((r) => !r.isPreflight).map((r) => [r.status, r.fault, r.cors]), [[503, 'html503', false]], 'log');
    fake.injectFault({ type: 'html504', host: 'oauth2.googleapis.com' });
    const tok = await call({ url: TOKENINFO, method: 'POST', form: { access_token: ALICE } });
    assertEqual(tok.status, 504, 'tokeninfo 504 when the fault names its host');
    const fine = await call({ url: BILLING('proj-list'), token: ALICE });
    assertEqual(fine.status, 200, 'used up');
  });

  t.test('faults: a dropped connection is a network error, then the same request works', async () => {
    fake.injectFault({ type: 'drop', kind: 'crm.testIamPermissions' });
    const json = { permissions: ['compute.instances.create'] };
    const { out, reqs } = await observe(() => call({ url: CRM('proj-a'), method: 'POST', token: ALICE, json }));
    assert(!out.ok && /TypeError|Failed to fetch/.test(out.error), `fetch must fail, got ${JSON.stringify(out)}`);
    const sent = reqs.filter((r) => !r.isPreflight);
    assertEqual(sent.map((r) => [r.fault, r.status]), [['drop', null]], 'one request, dropped, no retry by Chromium');
    const again = await call({ url: CRM('proj-a'), method: 'POST', token: ALICE, json });
    assertEqual([again.status, again.body], [200, json], 'next one answered');
    fake.clearFaults();
  });

  t.test('latency applies to preflights too: a fresh URL costs 2 round trips of >= L ms', async () => {
    const L = 150;
    fake.setLatency(L);
    try {
      const { out, reqs } = await observe(() => call({ url: CRM('proj-a') + '?fresh=1', method: 'POST', token: ALICE, json: { permissions: ['compute.instances.create'] } }));
      assertEqual(out.status, 200, 'status');
      assertEqual(reqs.map((r) => r.isPreflight), [true, false], 'preflight + request');
      assertEqual(criticalPath(reqs).depth, 2, 'round trips');
      assert(out.ms >= 2 * L, `took ${out.ms.toFixed(0)} ms, expected >= ${2 * L}`);
      // Three parallel requests to three hosts overlap: one wave (plus one preflight wave).
      const par = await observe(() => page.evaluate(async (tok) => Promise.all([
        window.call({ url: 'https://serviceusage.googleapis.com/v1/projects/proj-a/services:batchGet?names=projects%2Fproj-a%2Fservices%2Fiam.googleapis.com&x=2', token: tok }),
        window.call({ url: 'https://storage.googleapis.com/storage/v1/b/bucket-a/iam/testPermissions?permissions=storage.objects.get&x=2', token: tok }),
        window.call({ url: 'https://oauth2.googleapis.com/tokeninfo', method: 'POST', form: { access_token: tok } }),
      ]), ALICE));
      assertEqual(criticalPath(par.reqs).depth, 2, 'parallel: preflights (with tokeninfo beside them), then the GETs');
      return `fresh URL ${out.ms.toFixed(0)} ms at L=${L}`;
    } finally {
      fake.setLatency(0);
    }
  });

  t.test('no violation so far, from all of the above', async () => {
    assertEqual(fake.violations(), [], 'violations');
  });

  t.test('violations: token in a URL, Authorization on tokeninfo or on another host are recorded', async () => {
    await call({ url: `${TOKENINFO}?access_token=${ALICE}` });
    await call({ url: TOKENINFO, method: 'POST', token: ALICE, form: { access_token: ALICE } });
    await call({ url: 'https://www.googleapis.com/oauth2/v3/userinfo', token: ALICE });
    await call({ url: `${GCS('bucket-a', ['storage.objects.get'])}&key=${encodeURIComponent(BOB)}`, token: BOB });
    await fake.settled();
    const kinds = fake.violations().map((v) => v.kind);
    for (const k of ['token-in-url', 'authorization-to-tokeninfo', 'authorization-to-foreign-host']) {
      assert(kinds.includes(k), `missing ${k} in ${JSON.stringify(kinds)}`);
    }
    // GET tokeninfo?access_token=..., then the storage URL twice: its preflight carries it too.
    assertEqual(kinds.filter((k) => k === 'token-in-url').length, 3, 'token-in-url count');
    assert(!JSON.stringify(fake.violations()).includes(ALICE), 'violation messages do not print the token');
    fake.clearViolations();
  });

  t.test('the request log has the documented fields, with times', async () => {
    const e = fake.requests().at(-1);
    for (const k of ['method', 'host', 'path', 'query', 'isPreflight', 'hasAuthorization', 'startMs', 'endMs', 'kind', 'target', 'fault', 'cors']) {
      assert(k in e, `missing ${k}`);
    }
    await poll(() => fake.requests().every((r) => r.endMs !== null && r.endMs >= r.startMs), { what: 'every request answered' });
  });

  const failed = await t.run();
  console.log(`# preflight cache: ${preflightCached ? `Chromium reused the preflight (Access-Control-Max-Age ${CORS_MAX_AGE})` : 'NOT observed'}`);
  return failed;
}

main().catch((err) => {
  console.error(err);
  console.log('0 passed, 1 failed');
  process.exit(1);
});
