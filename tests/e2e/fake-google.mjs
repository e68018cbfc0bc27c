// A fake Google for the end-to-end tests: one loopback HTTPS server that answers as
// oauth2 / cloudresourcemanager / serviceusage / storage / iam / cloudbilling / compute
// .googleapis.com would, including their CORS behaviour and their error bodies, and that records
// every request it sees.
//
// How Chromium reaches it (checked on Chromium 156 here): the flag
//   --host-resolver-rules=MAP *.googleapis.com 127.0.0.1:<port>
// WORKS for https URLs with an arbitrary port: the browser keeps the URL (and so the Origin, the
// Host / :authority header, the certificate name check and the CORS cache key) as
// https://<host>.googleapis.com, and only the socket goes to 127.0.0.1:<port>. So the fake
// listens on a random free port and needs no root. The certificate is self-signed (made with
// `openssl` at start, SAN *.googleapis.com) and Chromium is told `--ignore-certificate-errors`.
//
// The server speaks HTTP/2 (ALPN h2, like Google; HTTP/1.1 is still accepted), so parallel
// requests to one host are multiplexed instead of being queued behind Chromium's 6-connections-
// per-host limit, and the timing of "waves" in the benchmark is not distorted by HTTP/1.1.
//
// Usage (same Node process as the test):
//   const fake = await startFakeGoogle();
//   fake.setScenario({...});            // see defaultScenario() for the shape
//   fake.chromiumArgs()                 // flags that route *.googleapis.com here
//   fake.requests(), fake.resetLog(), fake.violations(), fake.setLatency(ms), fake.failNext(n)
//   fake.injectFault({type: 'drop' | 'html502' | ..., host?, kind?, target?, times?})
//   await fake.stop();
//
// Each log entry has method, host, path, query, isPreflight, hasAuthorization, startMs, endMs,
// status, sub (the account behind the token), kind (which endpoint, see ROUTES; preflights get
// the kind of the request they unlock), target (the project, bucket or service account named in
// the path), fault (the injected fault that answered it, or null), cors (whether the answer
// carried Access-Control-Allow-Origin) and, for Bearer hosts, body, permissions (the names asked:
// CRM / IAM JSON body, storage query), services (Service Usage batchGet names) and pageToken
// (Service Usage list, Compute list).
//
// Like Google, Service Usage needs serviceusage.services.get (batchGet) or .list (list) on the
// project: without it the answer is 403 PERMISSION_DENIED with ErrorInfo IAM_PERMISSION_DENIED
// naming it.

import http2 from 'node:http2';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';

// Hosts that may receive a Bearer token. Anything else carrying Authorization is a violation.
export const BEARER_HOSTS = Object.freeze([
  'cloudresourcemanager.googleapis.com',
  'serviceusage.googleapis.com',
  'storage.googleapis.com',
  'iam.googleapis.com',
  'cloudbilling.googleapis.com',
  'compute.googleapis.com',
  // OpenID Connect userinfo: the app's fallback when tokeninfo cannot be reached (no CORS).
  'openidconnect.googleapis.com',
]);
export const TOKENINFO_HOST = 'oauth2.googleapis.com';
export const APP_HOSTS = Object.freeze([TOKENINFO_HOST, ...BEARER_HOSTS]);

// The only request headers Google's CORS preflights allow that matter here.
export const CORS_ALLOWED_HEADERS = Object.freeze(['authorization', 'content-type', 'x-goog-user-project']);
export const CORS_MAX_AGE = 3600;

export const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';
export const CLOUD_PLATFORM_READ_ONLY = `${CLOUD_PLATFORM}.read-only`;
export const EMAIL_SCOPE = 'https://www.googleapis.com/auth/userinfo.email';
export const DEFAULT_SCOPES = Object.freeze([
  'openid',
  EMAIL_SCOPE,
  CLOUD_PLATFORM,
]);
export const CONSUMER_PROJECT = '764086051850';
// tokeninfo's azp / aud: the OAuth client that minted the token (GCP-API.md §5: gcloud CLI vs
// gcloud application-default). An account's `azp` picks one; the CLI's is the default.
export const GCLOUD_CLIENT_ID = '32555940559.apps.googleusercontent.com';
export const ADC_CLIENT_ID = '764086051850-6qr4p6gpi6hn506pt8ejuq83di341hur.apps.googleusercontent.com';
// The billing account a project with billing is linked to, unless its `billingAccount` says.
export const DEFAULT_BILLING_ACCOUNT = 'billingAccounts/012345-567890-ABCDEF';
// Service Usage services.list: "Requested page size cannot exceed 200. If not set, the default
// page size is 50." (discovery serviceusage-v1.json, services.list pageSize; GCP-API.md §3)
export const SERVICES_MAX_PAGE_SIZE = 200;
export const SERVICES_DEFAULT_PAGE_SIZE = 50;
// Resource Manager v3 projects.search (discovery cloudresourcemanager-v3.json): "If unspecified,
// server picks an appropriate default"; Google documents no maximum. The fake picks 100.
export const SEARCH_DEFAULT_PAGE_SIZE = 100;

// Permissions that Resource Manager accepts on a project. Everything SkyPilot's lists
// (src/core/catalog.rs) name is here, plus a few neighbours; a name outside this set (or a
// scenario's `extraTestable`) is refused with 400 INVALID_ARGUMENT, as Google refuses names it
// does not know. These are never testable on a project, as on real Google:
export const UNTESTABLE_ON_PROJECT = Object.freeze([
  'resourcemanager.projects.create',
  'resourcemanager.projects.list',
]);
export const TESTABLE_ON_PROJECT = Object.freeze([
  // compute
  'compute.disks.create', 'compute.disks.get', 'compute.disks.list', 'compute.disks.resize',
  'compute.disks.useReadOnly', 'compute.firewalls.create', 'compute.firewalls.delete',
  'compute.firewalls.get', 'compute.firewalls.list', 'compute.firewalls.update',
  'compute.globalOperations.get', 'compute.images.create', 'compute.images.delete',
  'compute.images.get', 'compute.images.useReadOnly', 'compute.instances.create',
  'compute.instances.delete', 'compute.instances.get', 'compute.instances.list',
  'compute.instances.setLabels', 'compute.instances.setMetadata',
  'compute.instances.setServiceAccount', 'compute.instances.setTags', 'compute.instances.start',
  'compute.instances.stop', 'compute.networks.get', 'compute.networks.getEffectiveFirewalls',
  'compute.networks.create', 'compute.networks.list', 'compute.projects.get', 'compute.reservations.list',
  'compute.subnetworks.list', 'compute.subnetworks.use', 'compute.subnetworks.useExternalIp',
  'compute.zoneOperations.get',
  // iam
  'iam.roles.get', 'iam.serviceAccounts.actAs', 'iam.serviceAccounts.create',
  'iam.serviceAccounts.get',
  // resource manager
  'resourcemanager.projects.get', 'resourcemanager.projects.getIamPolicy',
  'resourcemanager.projects.setIamPolicy',
  // service usage
  'serviceusage.services.enable', 'serviceusage.services.get', 'serviceusage.services.list',
  'serviceusage.services.use',
  // storage
  'storage.buckets.create', 'storage.buckets.delete', 'storage.buckets.get',
  'storage.buckets.list', 'storage.objects.create', 'storage.objects.delete',
  'storage.objects.get', 'storage.objects.list', 'storage.objects.update',
  // tpu
  'tpu.nodes.create', 'tpu.nodes.delete', 'tpu.nodes.get', 'tpu.nodes.list', 'tpu.nodes.update',
  'tpu.operations.get',
]);
// Bucket-level permissions (storage.buckets.create/list are project-level only, as on Google).
export const TESTABLE_ON_BUCKET = Object.freeze([
  'storage.buckets.delete', 'storage.buckets.get', 'storage.buckets.getIamPolicy',
  'storage.buckets.setIamPolicy', 'storage.buckets.update', 'storage.objects.create',
  'storage.objects.delete', 'storage.objects.get', 'storage.objects.getIamPolicy',
  'storage.objects.list', 'storage.objects.setIamPolicy', 'storage.objects.update',
]);
export const TESTABLE_ON_SERVICE_ACCOUNT = Object.freeze([
  'iam.serviceAccounts.actAs', 'iam.serviceAccounts.get', 'iam.serviceAccounts.getAccessToken',
  'iam.serviceAccounts.getIamPolicy', 'iam.serviceAccounts.setIamPolicy',
  'iam.serviceAccounts.signBlob', 'iam.serviceAccounts.update', 'iam.serviceAccounts.delete',
]);

const SERVICE_TITLES = {
  'cloudresourcemanager.googleapis.com': 'Cloud Resource Manager API',
  'serviceusage.googleapis.com': 'Service Usage API',
  'storage.googleapis.com': 'Cloud Storage API',
  'iam.googleapis.com': 'Identity and Access Management (IAM) API',
  'cloudbilling.googleapis.com': 'Cloud Billing API',
  'compute.googleapis.com': 'Compute Engine API',
};

// The OAuth scopes each host's methods accept (a token needs one of them), from each method's
// "Authorization scopes" in Google's REST reference / discovery documents:
// - CRM and Service Usage: cloud-platform or cloud-platform.read-only (discovery/*.json here).
// - Storage: also devstorage.* (GCP-API.md §4).
// - IAM: cloud-platform only in the discovery doc (BROWSER-FACTS.md flag 1); the REST reference
//   of projects.serviceAccounts.get also lists https://www.googleapis.com/auth/iam. NOT read-only.
// - Cloud Billing projects.getBillingInfo: cloud-platform, cloud-billing, cloud-billing.readonly
//   (https://cloud.google.com/billing/docs/reference/rest/v1/projects/getBillingInfo). NOT
//   cloud-platform.read-only.
// - Compute networks.list: cloud-platform, compute, compute.readonly (compute v1 discovery, as
//   generated into googleComputeEngineR's gce_list_networks docs). NOT cloud-platform.read-only.
const A = 'https://www.googleapis.com/auth/';
const HOST_SCOPES = {
  'cloudresourcemanager.googleapis.com': [CLOUD_PLATFORM, CLOUD_PLATFORM_READ_ONLY],
  'serviceusage.googleapis.com': [CLOUD_PLATFORM, CLOUD_PLATFORM_READ_ONLY],
  'storage.googleapis.com': [CLOUD_PLATFORM, CLOUD_PLATFORM_READ_ONLY,
    `${A}devstorage.full_control`, `${A}devstorage.read_only`, `${A}devstorage.read_write`],
  'iam.googleapis.com': [CLOUD_PLATFORM, `${A}iam`],
  'cloudbilling.googleapis.com': [CLOUD_PLATFORM, `${A}cloud-billing`, `${A}cloud-billing.readonly`],
  'compute.googleapis.com': [CLOUD_PLATFORM, `${A}compute`, `${A}compute.readonly`],
  // userinfo needs an OpenID scope (GCP-API.md §5: "Needs openid/email/profile scopes").
  'openidconnect.googleapis.com': ['openid', 'email', 'profile', EMAIL_SCOPE, `${A}userinfo.profile`],
};

/** An empty scenario: nobody, nothing. Every field is optional in setScenario. */
export function defaultScenario() {
  return {
    // token -> { sub, email, scopes?: [...], expired?: bool, expiresIn?: seconds,
    //            azp?: OAuth client id (default GCLOUD_CLIENT_ID; ADC_CLIENT_ID for an ADC token) }
    // Without EMAIL_SCOPE (or 'email') in scopes, tokeninfo leaves out sub, email, email_verified.
    accounts: {},
    // projectId -> {
    //   number, grants: { sub: [perm...] | ['*'] }, enabledServices: [...], visibleTo?: [sub...],
    //   billing?: bool (default true: linked to billingAccount),
    //   billingAccount?: 'billingAccounts/...' (default DEFAULT_BILLING_ACCOUNT),
    //   bindings?: [{ role, members: ['user:...', 'serviceAccount:...'] }] (getIamPolicy; default []),
    //   etag?: string (getIamPolicy; default 'BwXXXX='),
    //   networks?: [name...] (Compute networks.list; default ['default']),
    //   state?: 'ACTIVE' | 'DELETE_REQUESTED' (projects.search; default 'ACTIVE'),
    //   displayName?: string (projects.search; default the project ID), parent?: 'folders/…',
    // }
    // visibleTo defaults to the subs that have a grants entry.
    projects: {},
    // bucket -> { grants: { sub: [perm...] | ['*'] }, project?: projectId }
    // With `project`, the caller's storage.* grants on THAT project apply to the bucket too (IAM
    // inheritance); a bucket without `project` has only its own grants.
    buckets: {},
    // service account email -> { grants: { sub: [perm...] | ['*'] }, project?: projectId | null,
    //                            uniqueId?: '1...' (21 digits; default derived from the email) }
    // `project` defaults to X for X@...iam.gserviceaccount.com (null: none); the caller's
    // iam.serviceAccounts.* grants on that project apply to the service account too.
    serviceAccounts: {},
    // services turned off in the consumer (quota) project: their host answers SERVICE_DISABLED
    disabledInConsumer: [],
    // null, or { service?, consumer?, activationUrl? }: what those SERVICE_DISABLED bodies claim
    // instead (security tests: a hostile or garbled body)
    serviceDisabledAs: null,
    consumerProject: CONSUMER_PROJECT,
    // extra names accepted by Resource Manager's testIamPermissions (a '*' grant covers them too)
    extraTestable: [],
    // added to every request, preflights included
    latencyMs: 0,
    // the next N non-preflight requests to a Bearer host answer 429 RATE_LIMIT_EXCEEDED
    fail429Next: 0,
    // the page size Service Usage services.list really uses (<= what the request asks, <= 200)
    servicesPageSize: SERVICES_MAX_PAGE_SIZE,
    // the page size Resource Manager v3 projects.search really uses (<= what the request asks;
    // its reference: "The server can return fewer projects than requested")
    searchPageSize: SEARCH_DEFAULT_PAGE_SIZE,
    // false: tokeninfo answers without Access-Control-Allow-Origin (the browser sees a network
    // error; BROWSER-FACTS.md flag 2: nothing confirms Google sends it)
    tokeninfoCors: true,
    // injected faults, first match wins, each used `times` times (default 1; Infinity: always):
    // { type: 'drop' | 'html502' | 'html503' | 'html504' | 'rateLimitExceeded' | 'userRateLimitExceeded'
    //         | 'serviceDisabled' (403 SERVICE_DISABLED) | 'http429' (429 RATE_LIMIT_EXCEEDED),
    //   host?, kind?, target?   (match; without host only Bearer hosts match)
    //   cors?: bool             (html5xx: send Access-Control-Allow-Origin; default true) }
    faults: [],
  };
}

function makeCert(dir) {
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
    '-subj', '/CN=*.googleapis.com',
    '-addext', 'subjectAltName=DNS:*.googleapis.com,DNS:googleapis.com',
  ], { stdio: 'ignore' });
  return { key: fs.readFileSync(key), cert: fs.readFileSync(cert) };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------- Google's error bodies ----------

function errorInfo(reason, metadata, domain = 'googleapis.com') {
  return { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason, domain, metadata };
}

function aipError(code, status, message, details) {
  const error = { code, message, status };
  if (details) error.details = details;
  return { error };
}

function legacyError(code, message, reason) {
  return { error: { code, message, errors: [{ message, domain: 'global', reason }] } };
}

const AUTH_MESSAGE =
  'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';

export function expiredTokenBody(host, method) {
  return aipError(401, 'UNAUTHENTICATED', AUTH_MESSAGE, [
    errorInfo('ACCESS_TOKEN_EXPIRED', { service: host, method }),
  ]);
}

function invalidTokenBody(host, method) {
  return aipError(401, 'UNAUTHENTICATED', AUTH_MESSAGE, [
    errorInfo('ACCESS_TOKEN_TYPE_UNSUPPORTED', { service: host, method }),
  ]);
}

function missingCredentialsBody(host, method) {
  return aipError(401, 'UNAUTHENTICATED',
    'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
    [errorInfo('CREDENTIALS_MISSING', { service: host, method })]);
}

function scopeInsufficientBody(host, method) {
  return {
    error: {
      code: 403,
      message: 'Request had insufficient authentication scopes.',
      errors: [{ message: 'Insufficient Permission', domain: 'global', reason: 'insufficientPermissions' }],
      status: 'PERMISSION_DENIED',
      details: [errorInfo('ACCESS_TOKEN_SCOPE_INSUFFICIENT', { service: host, method })],
    },
  };
}

export function serviceDisabledBody(realService, realConsumer, as = null) {
  // `as` (scenario.serviceDisabledAs) makes the body lie: { service, consumer, activationUrl }
  // replace what Google would say, for the tests of what the app does with hostile answers.
  const service = as?.service ?? realService;
  const consumer = as?.consumer ?? realConsumer;
  const title = SERVICE_TITLES[service] || service;
  const url = as?.activationUrl ?? `https://console.developers.google.com/apis/api/${service}/overview?project=${consumer}`;
  const message = `${title} has not been used in project ${consumer} before or it is disabled. Enable it by visiting ${url} then retry. If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry.`;
  return aipError(403, 'PERMISSION_DENIED', message, [
    errorInfo('SERVICE_DISABLED', {
      consumer: `projects/${consumer}`,
      service,
      containerInfo: consumer,
      serviceTitle: title,
      activationUrl: url,
    }),
    { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message },
    {
      '@type': 'type.googleapis.com/google.rpc.Help',
      links: [{ description: 'Google developers console API activation', url }],
    },
  ]);
}

function rateLimitBody(service, consumer) {
  return aipError(429, 'RESOURCE_EXHAUSTED',
    `Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute' of service '${service}' for consumer 'project_number:${consumer}'.`,
    [errorInfo('RATE_LIMIT_EXCEEDED', {
      service,
      consumer: `projects/${consumer}`,
      quota_metric: `${service}/read_requests`,
      quota_limit: 'ReadRequestsPerMinutePerProject',
    })]);
}

const CALLER_DENIED = aipError(403, 'PERMISSION_DENIED', 'The caller does not have permission');

/**
 * What Service Usage answers when the caller can see the project but lacks the permission the
 * method needs (as observed from services.batchGet without serviceusage.services.get).
 */
export function iamPermissionDeniedBody(service, permission, resource) {
  return aipError(403, 'PERMISSION_DENIED',
    `Permission '${permission}' denied on resource '//${service}/${resource}' (or it may not exist).`,
    [errorInfo('IAM_PERMISSION_DENIED', { permission, resource }, service)]);
}

/**
 * IAM on `projects/-/serviceAccounts/{email}` for a service account that does not exist, or that
 * the caller may not see: 403, never 404. IAM v1 discovery, serviceAccounts.get: "if you try to
 * access the service account `projects/-/serviceAccounts/fake@example.com`, which does not exist,
 * the response contains an HTTP `403 Forbidden` error instead of a `404 Not Found` error"
 * (BROWSER-FACTS.md flag 4 and §6). ErrorInfo as in AIP-211 (GCP-API.md §1.6).
 */
export function serviceAccountDeniedBody() {
  const permission = 'iam.serviceAccounts.get';
  return aipError(403, 'PERMISSION_DENIED',
    `Permission '${permission}' denied on resource (or it may not exist).`,
    [errorInfo('IAM_PERMISSION_DENIED', { permission }, 'iam.googleapis.com')]);
}

/**
 * Compute Engine's own 403 for a missing permission: the legacy shape, reason "forbidden",
 * "Required '<permission>' permission for '<resource>'" (the message gcloud prints, e.g.
 * GoogleCloudPlatform/pbmm-on-gcp-onboarding#372 and countless gcloud reports).
 */
export function computeForbiddenBody(permission, resource) {
  return legacyError(403, `Required '${permission}' permission for '${resource}'`, 'forbidden');
}

/**
 * The legacy per-user / per-project rate-limit 403s some Google APIs still send (GCP-API.md §7
 * table: legacy reason `rateLimitExceeded`; Google's "Resolve errors" guides, e.g.
 * https://developers.google.com/drive/api/guides/handle-errors: 403 with domain usageLimits and
 * reason rateLimitExceeded / userRateLimitExceeded). No `status`, no ErrorInfo.
 */
export function legacyRateLimitBody(reason) {
  const message = reason === 'userRateLimitExceeded' ? 'User Rate Limit Exceeded' : 'Rate Limit Exceeded';
  return { error: { errors: [{ domain: 'usageLimits', reason, message }], code: 403, message } };
}

/**
 * What a proxy between the browser and Google answers on a bad day: an HTML page, not Google's
 * JSON (TEST-AUDIT.md §2.9: the fakes never produced a 5xx or an HTML body). nginx's stock page.
 */
export function proxyErrorHtml(status) {
  const text = { 502: 'Bad Gateway', 503: 'Service Temporarily Unavailable', 504: 'Gateway Time-out' }[status] || 'Error';
  return `<html>\r\n<head><title>${status} ${text}</title></head>\r\n<body>\r\n<center><h1>${status} ${text}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
}

// ---------- the server ----------

/**
 * Starts the fake. `port` 0 (default) picks a free port on 127.0.0.1.
 * Returns the control object described at the top of this file.
 */
export async function startFakeGoogle({ port = 0, host = '127.0.0.1', tls = null } = {}) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-google-'));
  // tls: { key, cert } from the caller (e.g. a leaf signed by a test CA that a client trusts).
  const { key, cert } = tls ?? makeCert(tmp);
  const t0 = performance.now();
  const now = () => Math.round((performance.now() - t0) * 10) / 10;

  let scenario = defaultScenario();
  const log = [];
  const violations = [];
  const seenTokens = new Set(); // every token ever presented, to look for it in URLs

  function violation(kind, detail, entry) {
    violations.push({ kind, detail, method: entry.method, host: entry.host, path: entry.path, atMs: entry.startMs });
  }

  function knownTokens() {
    const all = new Set([...Object.keys(scenario.accounts || {}), ...seenTokens]);
    return [...all].filter((t) => t && t.length >= 8);
  }

  function accountLabel(token) {
    const a = scenario.accounts?.[token];
    return a ? `sub=${a.sub}` : 'an unknown token';
  }

  // Looks for any token in the places a token must never be: the URL and the Referer.
  function checkTokenInUrl(entry, rawUrl, referer) {
    const places = [['URL', rawUrl], ['Referer', referer || '']];
    for (const [where, text] of places) {
      let decoded = text;
      try { decoded = decodeURIComponent(text.replace(/\+/g, ' ')); } catch { /* keep raw */ }
      for (const token of knownTokens()) {
        if (text.includes(token) || decoded.includes(token)) {
          violation('token-in-url', `the token of ${accountLabel(token)} appears in the ${where}`, entry);
        }
      }
    }
  }

  function grantsFor(resource, sub, universe) {
    const list = resource?.grants?.[sub] || [];
    return list.includes('*') ? new Set(universe) : new Set(list);
  }

  // IAM allow policies are inherited down the resource hierarchy ("the effective allow policy
  // for a resource is the union of the allow policy set at that resource and the allow policy
  // inherited from its parent", https://cloud.google.com/iam/docs/resource-hierarchy-access-control).
  // A bucket's or service account's parent is the project that OWNS it, which need not be the
  // project being checked: only that owner's grants count, and only the names that make sense on
  // the child (a '*' on the owner means every name testable on the child).
  function inheritedGrants(resource, ownerProjectId, sub, universe) {
    const held = grantsFor(resource, sub, universe);
    const owner = ownerProjectId ? scenario.projects?.[ownerProjectId] : undefined;
    for (const p of grantsFor(owner, sub, universe)) if (universe.includes(p)) held.add(p);
    return held;
  }

  function serviceAccountProject(email, sa) {
    if (sa && sa.project !== undefined) return sa.project;
    // A user-managed service account is named NAME@PROJECT_ID.iam.gserviceaccount.com
    // (https://cloud.google.com/iam/docs/service-account-types#user-managed).
    return /@([^.@]+)\.iam\.gserviceaccount\.com$/.exec(email)?.[1] ?? null;
  }

  // A stable 21-digit numeric id starting with 1, as service accounts' uniqueId / oauth2ClientId look.
  function numericId(seed) {
    const h = createHash('sha256').update(seed).digest();
    return `1${(h.readBigUInt64BE(0) * 100000n + BigInt(h.readUInt32BE(8) % 100000)).toString().padStart(20, '0').slice(-20)}`;
  }

  function projectVisible(project, sub) {
    if (!project) return false;
    const visible = project.visibleTo || Object.keys(project.grants || {});
    return visible.includes(sub);
  }

  function projectHolds(project, sub, permission) {
    return projectVisible(project, sub) && grantsFor(project, sub, TESTABLE_ON_PROJECT).has(permission);
  }

  function send(res, entry, status, body, extraHeaders = {}) {
    entry.status = status;
    entry.cors = 'access-control-allow-origin' in extraHeaders;
    const headers = { 'content-type': 'application/json; charset=UTF-8', ...extraHeaders };
    res.writeHead(status, headers);
    entry.endMs = now(); // when the answer is written: causally before any request it unlocks
    res.end(body === undefined ? '' : JSON.stringify(body));
  }

  // ----- faults injected on demand (TEST-AUDIT.md §2.9: real Google and the proxies in front of
  // it produce 5xx, HTML bodies, dropped connections and legacy rate-limit 403s) -----

  function takeFault(entry, types) {
    const faults = scenario.faults || [];
    const i = faults.findIndex((f) => types.includes(f.type) && (f.times ?? 1) > 0
      && (f.host ? f.host === entry.host : BEARER_HOSTS.includes(entry.host))
      && (!f.kind || f.kind === entry.kind) && (!f.target || f.target === entry.target));
    if (i === -1) return null;
    const f = faults[i];
    f.times = (f.times ?? 1) - 1;
    entry.fault = f.type;
    return f;
  }

  // Resets the stream (HTTP/2) or closes the socket (HTTP/1.1) without a byte of answer: the
  // browser's fetch rejects with a TypeError, as when a connection dies mid-request.
  function dropConnection(req, entry) {
    entry.status = null;
    entry.endMs = now();
    if (req.stream) req.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    else req.socket.destroy();
  }

  function sendHtml(res, entry, status, html, cors) {
    entry.status = status;
    entry.cors = 'access-control-allow-origin' in cors;
    res.writeHead(status, { 'content-type': 'text/html', ...cors });
    entry.endMs = now();
    res.end(html);
  }

  // ----- handlers, one per endpoint; each gets (ctx) and returns [status, body, headers?] -----

  function handleTokeninfo(ctx) {
    const { entry, method, pathname, body, contentType } = ctx;
    if (pathname !== '/tokeninfo') return null;
    if (ctx.authorization) {
      violation('authorization-to-tokeninfo', 'tokeninfo request carries an Authorization header', entry);
    }
    let token = ctx.query.get('access_token');
    if (method === 'POST') {
      if (!/^application\/x-www-form-urlencoded/i.test(contentType || '')) {
        return [400, { error: 'invalid_request', error_description: 'Unsupported content type' }];
      }
      token = new URLSearchParams(body).get('access_token') ?? token;
    } else if (method !== 'GET') {
      return [405, { error: 'invalid_request', error_description: 'Method not allowed' }];
    }
    if (token) seenTokens.add(token);
    const account = token ? scenario.accounts?.[token] : undefined;
    entry.sub = account?.sub;
    if (!account || account.expired) {
      return [400, { error: 'invalid_token', error_description: 'Invalid Value' }];
    }
    const lifetime = account.expiresIn ?? 3599;
    const exp = Math.floor(Date.now() / 1000) + lifetime;
    const scopes = account.scopes || DEFAULT_SCOPES;
    const client = account.azp || GCLOUD_CLIENT_ID;
    // Key order as in samples/tokeninfo_user_gcloud_token.json. sub, email and email_verified are
    // there only with the email scope (GCP-API.md §5, samples/tokeninfo_no_email_scope.txt).
    const out = { azp: client, aud: client };
    const withEmail = scopes.includes(EMAIL_SCOPE) || scopes.includes('email');
    if (withEmail) out.sub = account.sub;
    Object.assign(out, { scope: scopes.join(' '), exp: String(exp), expires_in: String(lifetime) });
    if (withEmail) Object.assign(out, { email: account.email, email_verified: 'true' });
    out.access_type = 'offline';
    return [200, out];
  }

  function parseJsonPermissions(body) {
    try {
      const parsed = JSON.parse(body || '{}');
      if (!Array.isArray(parsed.permissions)) return null;
      return parsed.permissions;
    } catch {
      return null;
    }
  }

  function crmTestIamPermissions(ctx) {
    const project = scenario.projects?.[ctx.target];
    if (!projectVisible(project, ctx.account.sub)) return [403, CALLER_DENIED];
    const asked = parseJsonPermissions(ctx.body);
    ctx.entry.permissions = asked;
    if (!asked) return [400, aipError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.')];
    if (asked.length > 100) {
      return [400, aipError(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.')];
    }
    // One bad name fails the whole call and only the first is named (GCP-API.md §1.5,
    // samples/error_crm_invalid_permission.txt).
    const testable = new Set([...TESTABLE_ON_PROJECT, ...(scenario.extraTestable || [])]);
    const bad = asked.find((p) => UNTESTABLE_ON_PROJECT.includes(p) || p.startsWith('billing.') || !testable.has(p));
    if (bad !== undefined) {
      return [400, aipError(400, 'INVALID_ARGUMENT', `Permission ${bad} is not valid for this resource.`)];
    }
    const held = grantsFor(project, ctx.account.sub, testable);
    const answer = [...new Set(asked.filter((p) => held.has(p)))];
    return [200, answer.length ? { permissions: answer } : {}];
  }

  // projects.getIamPolicy: "Permission is denied if the policy or the resource does not exist.
  // Authorization requires the Google IAM permission resourcemanager.projects.getIamPolicy on the
  // project." (https://cloud.google.com/resource-manager/reference/rest/v1/projects/getIamPolicy)
  // Denied like CRM v1 projects.get (samples/error_crm_project_get_403_not_found_or_denied.txt).
  function crmGetIamPolicy(ctx) {
    const project = scenario.projects?.[ctx.target];
    if (!projectHolds(project, ctx.account.sub, 'resourcemanager.projects.getIamPolicy')) return [403, CALLER_DENIED];
    const policy = { version: 1, etag: project.etag || 'BwXXXX=' };
    const bindings = (project.bindings || []).map((b) => ({ role: b.role, members: [...(b.members || [])] }));
    if (bindings.length) policy.bindings = bindings; // proto3 JSON leaves out an empty list
    return [200, policy];
  }

  function serviceUsageDenied(projectId, permission) {
    return [403, iamPermissionDeniedBody('serviceusage.googleapis.com', permission, `projects/${projectId}`)];
  }

  function suBatchGet(ctx) {
    const projectId = ctx.target;
    const project = scenario.projects?.[projectId];
    ctx.entry.services = ctx.query.getAll('names').map((n) => n.split('/services/').pop());
    // As on Google, reading services' state needs serviceusage.services.get on the project; an
    // unknown or invisible project gets the same answer (AIP-211 "(or it may not exist)",
    // GCP-API.md §1.6; TEST-AUDIT.md §2.11).
    if (!projectHolds(project, ctx.account.sub, 'serviceusage.services.get')) {
      return serviceUsageDenied(projectId, 'serviceusage.services.get');
    }
    const names = ctx.query.getAll('names');
    if (names.length === 0 || names.length > 30) {
      return [400, aipError(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.')];
    }
    const services = [];
    for (const name of names) {
      const nm = /^projects\/([^/]+)\/services\/([^/]+)$/.exec(name);
      if (!nm || (nm[1] !== projectId && nm[1] !== String(project.number))) {
        return [400, aipError(400, 'INVALID_ARGUMENT', `Invalid service name ${name}.`)];
      }
      const service = nm[2];
      const enabled = (project.enabledServices || []).includes(service);
      services.push({ name: `projects/${project.number}/services/${service}`, state: enabled ? 'ENABLED' : 'DISABLED' });
    }
    return [200, { services }];
  }

  // Page tokens are opaque to the client; here they carry the offset, bound to the project.
  const pageTokenFor = (scope, offset) => Buffer.from(`${scope}|${offset}`).toString('base64url');
  function offsetFrom(scope, token) {
    if (!token) return 0;
    const [s, n] = Buffer.from(token, 'base64url').toString().split('|');
    return s === scope && /^\d+$/.test(n || '') ? Number(n) : -1;
  }

  // services.list with filter=state:ENABLED (discovery serviceusage-v1.json; GCP-API.md §3;
  // recorded bodies samples/serviceusage_list_enabled_*.json: names carry the project NUMBER,
  // an empty result is `{}`). Needs serviceusage.services.list on the project.
  function suList(ctx) {
    const projectId = ctx.target;
    const project = scenario.projects?.[projectId];
    ctx.entry.pageToken = ctx.query.get('pageToken');
    if (!projectHolds(project, ctx.account.sub, 'serviceusage.services.list')) {
      return serviceUsageDenied(projectId, 'serviceusage.services.list');
    }
    const filter = ctx.query.get('filter');
    if (filter !== 'state:ENABLED') {
      // state:DISABLED (or no filter) would list every service Google has: not modelled.
      violation('unexpected-endpoint', `services.list with filter=${filter} is not modelled`, ctx.entry);
      return [400, aipError(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.')];
    }
    const asked = ctx.query.has('pageSize') ? Number(ctx.query.get('pageSize')) : SERVICES_DEFAULT_PAGE_SIZE;
    if (!Number.isInteger(asked) || asked < 0) {
      return [400, aipError(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.')];
    }
    const size = Math.max(1, Math.min(asked || SERVICES_DEFAULT_PAGE_SIZE, SERVICES_MAX_PAGE_SIZE,
      scenario.servicesPageSize || SERVICES_MAX_PAGE_SIZE));
    const scope = `services:${projectId}`;
    const offset = offsetFrom(scope, ctx.entry.pageToken);
    if (offset < 0) return [400, aipError(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.')];
    const enabled = project.enabledServices || [];
    const names = fieldsAsk(ctx.query.get('fields'), 'services', 'name');
    const page = enabled.slice(offset, offset + size).map((service) => (names
      ? { name: `projects/${project.number}/services/${service}` }
      : { name: `projects/${project.number}/services/${service}`, parent: `projects/${project.number}`, state: 'ENABLED' }));
    const body = {};
    if (page.length) body.services = page; // proto3 JSON leaves out an empty list
    if (offset + size < enabled.length) body.nextPageToken = pageTokenFor(scope, offset + size);
    return [200, body];
  }

  // Resource Manager v3 projects.search (GCP-API.md §2; discovery cloudresourcemanager-v3.json):
  // "returns projects for which the user has the resourcemanager.projects.get permission";
  // query `state:ACTIVE` (or none: every state), v3 Project shape (name = projects/NUMBER, no
  // projectNumber field), paged by an opaque token. A project's `state` (default ACTIVE) and
  // `displayName` (default its ID) come from the scenario.
  function crmSearchProjects(ctx) {
    ctx.entry.pageToken = ctx.query.get('pageToken');
    const query = ctx.query.get('query') || '';
    if (query !== '' && query !== 'state:ACTIVE') {
      violation('unexpected-endpoint', `projects.search with query=${query} is not modelled`, ctx.entry);
      return [400, aipError(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.')];
    }
    const asked = ctx.query.has('pageSize') ? Number(ctx.query.get('pageSize')) : 0;
    if (!Number.isInteger(asked) || asked < 0) {
      return [400, aipError(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.')];
    }
    const size = Math.max(1, Math.min(asked || Infinity, scenario.searchPageSize || SEARCH_DEFAULT_PAGE_SIZE));
    const scope = `search:${ctx.account.sub}:${query}`;
    const offset = offsetFrom(scope, ctx.entry.pageToken);
    if (offset < 0) return [400, aipError(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.')];
    const visible = Object.entries(scenario.projects || {})
      .filter(([, p]) => projectHolds(p, ctx.account.sub, 'resourcemanager.projects.get'))
      .filter(([, p]) => query === '' || (p.state || 'ACTIVE') === 'ACTIVE');
    const page = visible.slice(offset, offset + size).map(([id, p]) => ({
      name: `projects/${p.number}`, parent: p.parent || 'organizations/123456789012', projectId: id,
      state: p.state || 'ACTIVE', displayName: p.displayName ?? id,
      createTime: '2024-01-02T03:04:05.678Z', updateTime: '2024-01-02T03:04:05.678Z', etag: 'W/"e2e"',
    }));
    const body = {};
    if (page.length) body.projects = page;
    if (offset + size < visible.length) body.nextPageToken = pageTokenFor(scope, offset + size);
    return [200, body];
  }

  // True when a `fields` partial-response mask (https://cloud.google.com/apis/docs/system-parameters)
  // asks for only `leaf` of `list`'s items, e.g. services(name) or services/name.
  function fieldsAsk(fields, list, leaf) {
    if (!fields) return false;
    return fields.includes(`${list}(${leaf})`) || fields.includes(`${list}/${leaf}`);
  }

  function storageTestPermissions(ctx) {
    const bucketName = ctx.target;
    const asked = ctx.query.getAll('permissions');
    ctx.entry.permissions = asked;
    const bad = asked.find((p) => !p.startsWith('storage.'));
    if (bad !== undefined) {
      return [400, legacyError(400, `${bad} is not a valid Google Cloud Storage permission.`, 'invalid')];
    }
    const bucket = scenario.buckets?.[bucketName];
    if (!bucket) return [404, legacyError(404, 'The specified bucket does not exist.', 'notFound')];
    const held = inheritedGrants(bucket, bucket.project, ctx.account.sub, TESTABLE_ON_BUCKET);
    const answer = [...new Set(asked.filter((p) => held.has(p)))];
    const body = { kind: 'storage#testIamPermissionsResponse' };
    if (answer.length) body.permissions = answer; // absent, not [], when none is held
    return [200, body];
  }

  function serviceAccountGrants(ctx) {
    const email = ctx.target;
    const sa = scenario.serviceAccounts?.[email];
    if (!sa) return { sa: null, held: new Set() };
    const held = inheritedGrants(sa, serviceAccountProject(email, sa), ctx.account.sub, TESTABLE_ON_SERVICE_ACCOUNT);
    return { sa, held };
  }

  function iamTestIamPermissions(ctx) {
    const { sa, held } = serviceAccountGrants(ctx);
    // projects/- with a missing service account: 403, not 404 (see serviceAccountDeniedBody).
    if (!sa) return [403, serviceAccountDeniedBody()];
    const asked = parseJsonPermissions(ctx.body);
    ctx.entry.permissions = asked;
    if (!asked) return [400, aipError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.')];
    const bad = asked.find((p) => !TESTABLE_ON_SERVICE_ACCOUNT.includes(p));
    if (bad !== undefined) {
      return [400, aipError(400, 'INVALID_ARGUMENT', `Permission ${bad} is not valid for this resource.`)];
    }
    const answer = [...new Set(asked.filter((p) => held.has(p)))];
    return [200, answer.length ? { permissions: answer } : {}];
  }

  // projects.serviceAccounts.get (https://cloud.google.com/iam/docs/reference/rest/v1/projects.serviceAccounts/get):
  // needs iam.serviceAccounts.get on the service account (held there or on its project); a
  // missing one and a forbidden one look alike.
  function iamGetServiceAccount(ctx) {
    const email = ctx.target;
    const { sa, held } = serviceAccountGrants(ctx);
    if (!sa || !held.has('iam.serviceAccounts.get')) return [403, serviceAccountDeniedBody()];
    const projectId = serviceAccountProject(email, sa) || '-';
    const uniqueId = sa.uniqueId || numericId(email);
    const body = { name: `projects/${projectId}/serviceAccounts/${email}`, projectId, uniqueId, email };
    if (sa.displayName) body.displayName = sa.displayName;
    body.oauth2ClientId = uniqueId; // a service account's OAuth client id is its unique id
    return [200, body];
  }

  // projects.getBillingInfo: "The current authenticated user must have the
  // resourcemanager.projects.get permission for the project"
  // (https://cloud.google.com/billing/docs/reference/rest/v1/projects/getBillingInfo). A project
  // without billing has no billingAccountName and billingEnabled false, which proto3 JSON leaves out.
  function billingGetBillingInfo(ctx) {
    const projectId = ctx.target;
    const project = scenario.projects?.[projectId];
    if (!projectHolds(project, ctx.account.sub, 'resourcemanager.projects.get')) return [403, CALLER_DENIED];
    const body = { name: `projects/${projectId}/billingInfo`, projectId };
    if (project.billing !== false) {
      body.billingAccountName = project.billingAccount || DEFAULT_BILLING_ACCOUNT;
      body.billingEnabled = true;
    }
    return [200, body];
  }

  // networks.list (https://cloud.google.com/compute/docs/reference/rest/v1/networks/list). Compute
  // is a resource-based API: the API must be enabled in the project named in the URL, which is
  // the consumer of the SERVICE_DISABLED error (https://cloud.google.com/docs/quotas/quota-project).
  function computeNetworksList(ctx) {
    const projectId = ctx.target;
    const project = scenario.projects?.[projectId];
    ctx.entry.pageToken = ctx.query.get('pageToken');
    const permission = 'compute.networks.list';
    if (!projectVisible(project, ctx.account.sub)) return [403, computeForbiddenBody(permission, `projects/${projectId}`)];
    if (!(project.enabledServices || []).includes('compute.googleapis.com')) {
      return [403, serviceDisabledBody('compute.googleapis.com', String(project.number))];
    }
    if (!projectHolds(project, ctx.account.sub, permission)) {
      return [403, computeForbiddenBody(permission, `projects/${projectId}`)];
    }
    const names = project.networks || ['default'];
    const onlyNames = fieldsAsk(ctx.query.get('fields'), 'items', 'name');
    const self = `https://www.googleapis.com/compute/v1/projects/${projectId}/global/networks`;
    const items = names.map((name) => (onlyNames ? { name } : { kind: 'compute#network', name, selfLink: `${self}/${name}` }));
    const body = onlyNames ? {} : { kind: 'compute#networkList', id: `projects/${projectId}/global/networks`, selfLink: self };
    if (items.length) body.items = items;
    return [200, body];
  }

  // OpenID Connect userinfo (GCP-API.md §5): the account, nothing about the token. `email` and
  // `email_verified` only with an email scope, as for tokeninfo.
  function oidcUserinfo(ctx) {
    const { account } = ctx;
    const scopes = account.scopes || DEFAULT_SCOPES;
    const out = { sub: account.sub, picture: 'https://lh3.googleusercontent.com/a/default-user' };
    if (scopes.includes(EMAIL_SCOPE) || scopes.includes('email')) {
      Object.assign(out, { email: account.email, email_verified: true });
    }
    return [200, out];
  }

  // Every endpoint the fake answers. `kind` names it in the log and in fault matching; the
  // first group of the path pattern is the log's `target`.
  const ROUTES = [
    { host: TOKENINFO_HOST, methods: ['GET', 'POST'], re: /^\/tokeninfo$/, kind: 'tokeninfo' },
    { host: 'cloudresourcemanager.googleapis.com', methods: ['POST'], re: /^\/v1\/projects\/([^/:]+):testIamPermissions$/, kind: 'crm.testIamPermissions', handler: crmTestIamPermissions },
    { host: 'cloudresourcemanager.googleapis.com', methods: ['POST'], re: /^\/v1\/projects\/([^/:]+):getIamPolicy$/, kind: 'crm.getIamPolicy', handler: crmGetIamPolicy },
    { host: 'cloudresourcemanager.googleapis.com', methods: ['GET'], re: /^\/v3\/projects:search$/, kind: 'crm.projects.search', handler: crmSearchProjects },
    { host: 'serviceusage.googleapis.com', methods: ['GET'], re: /^\/v1\/projects\/([^/]+)\/services:batchGet$/, kind: 'serviceusage.batchGet', handler: suBatchGet },
    { host: 'serviceusage.googleapis.com', methods: ['GET'], re: /^\/v1\/projects\/([^/:]+)\/services$/, kind: 'serviceusage.list', handler: suList },
    { host: 'storage.googleapis.com', methods: ['GET'], re: /^\/storage\/v1\/b\/([^/]+)\/iam\/testPermissions$/, kind: 'storage.testPermissions', handler: storageTestPermissions },
    { host: 'iam.googleapis.com', methods: ['POST'], re: /^\/v1\/projects\/-\/serviceAccounts\/([^/:]+):testIamPermissions$/, kind: 'iam.serviceAccounts.testIamPermissions', handler: iamTestIamPermissions },
    { host: 'iam.googleapis.com', methods: ['GET'], re: /^\/v1\/projects\/-\/serviceAccounts\/([^/:]+)$/, kind: 'iam.serviceAccounts.get', handler: iamGetServiceAccount },
    { host: 'cloudbilling.googleapis.com', methods: ['GET'], re: /^\/v1\/projects\/([^/]+)\/billingInfo$/, kind: 'billing.getBillingInfo', handler: billingGetBillingInfo },
    { host: 'compute.googleapis.com', methods: ['GET'], re: /^\/compute\/v1\/projects\/([^/]+)\/global\/networks$/, kind: 'compute.networks.list', handler: computeNetworksList },
    { host: 'openidconnect.googleapis.com', methods: ['GET'], re: /^\/v1\/userinfo$/, kind: 'oidc.userinfo', handler: oidcUserinfo },
  ];

  function routeOf(hostName, method, pathname) {
    for (const r of ROUTES) {
      if (r.host !== hostName || !r.methods.includes(method)) continue;
      const m = r.re.exec(pathname);
      if (!m) continue;
      let target = null;
      try { target = m[1] === undefined ? null : decodeURIComponent(m[1]); } catch { target = m[1]; }
      return { route: r, target };
    }
    return { route: null, target: null };
  }

  function scopesAllow(account, hostName) {
    const scopes = account.scopes || DEFAULT_SCOPES;
    return (HOST_SCOPES[hostName] || [CLOUD_PLATFORM]).some((s) => scopes.includes(s));
  }

  async function onRequest(req, res) {
    const startMs = now();
    const rawUrl = req.url || '/';
    const authority = (req.headers[':authority'] || req.headers.host || '').toLowerCase();
    const hostName = authority.replace(/:\d+$/, '');
    const url = new URL(rawUrl, `https://${hostName || 'unknown'}`);
    const method = req.method;
    const origin = req.headers.origin;
    const isPreflight = method === 'OPTIONS' && !!req.headers['access-control-request-method'];
    const authorization = req.headers.authorization;
    // A preflight is logged with the kind of the request it asks for.
    const { route, target } = routeOf(hostName, isPreflight ? req.headers['access-control-request-method'] : method, url.pathname);
    const entry = {
      method,
      host: hostName,
      path: url.pathname,
      query: url.search.replace(/^\?/, ''),
      isPreflight,
      hasAuthorization: !!authorization,
      hasCookie: !!req.headers.cookie, // the app never sends credentials (no cookies, ever)
      startMs,
      endMs: null,
      status: null,
      origin: origin || null,
      appHost: APP_HOSTS.includes(hostName),
      httpVersion: req.httpVersion,
      sub: undefined,
      kind: route?.kind ?? null, // which endpoint (ROUTES), null when the fake has none there
      target, //                    project / bucket / service account named in the path
      fault: null, //               the injected fault that answered, if any (see takeFault)
      cors: null, //                whether the answer carried Access-Control-Allow-Origin
      // Bearer hosts only: the raw request body, and what was asked (filled in by the handlers):
      body: null, //         the body text (CRM / IAM: {"permissions": [...]})
      permissions: null, //  permission names asked (CRM / IAM body, storage query)
      services: null, //     service names asked (Service Usage batchGet)
      pageToken: null, //    the page asked for (Service Usage list, Compute list)
    };
    if (isPreflight) {
      entry.requestedMethod = req.headers['access-control-request-method'];
      entry.requestedHeaders = (req.headers['access-control-request-headers'] || '')
        .split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
    }
    log.push(entry);
    // endMs is set when the answer is written (see send); this catches aborted requests.
    res.on('close', () => { if (entry.endMs === null) entry.endMs = now(); });

    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks).toString('utf8');

    // Fail loudly on the two things the app must never do.
    if (authorization) {
      const token = authorization.replace(/^Bearer\s+/i, '');
      if (token) seenTokens.add(token);
      if (!BEARER_HOSTS.includes(hostName) && hostName !== TOKENINFO_HOST) {
        violation('authorization-to-foreign-host', `Authorization sent to ${hostName}`, entry);
      }
    }
    checkTokenInUrl(entry, rawUrl, req.headers.referer);

    if (scenario.latencyMs > 0) await sleep(scenario.latencyMs);

    const cors = origin ? { 'access-control-allow-origin': origin, vary: 'Origin' } : {};

    if (isPreflight) {
      const refused = entry.requestedHeaders.filter((h) => !CORS_ALLOWED_HEADERS.includes(h));
      entry.corsRefusedHeaders = refused;
      entry.status = 200;
      entry.cors = true;
      // Google lists what it allows; a header the browser asked for that is not listed makes the
      // browser fail the preflight (and never send the real request).
      res.writeHead(200, {
        'access-control-allow-origin': origin || '*',
        'access-control-allow-methods': 'DELETE,GET,HEAD,POST,PUT,PATCH',
        'access-control-allow-headers': CORS_ALLOWED_HEADERS.join(', '),
        'access-control-max-age': String(CORS_MAX_AGE),
        vary: 'Origin',
        'content-length': '0',
        'content-type': 'text/html; charset=UTF-8',
      });
      entry.endMs = now();
      return res.end();
    }

    // Another Google host (www.googleapis.com, update.googleapis.com, ...): it passes CORS like
    // Google would, so that a token sent there does arrive and is caught above, then answers 404.
    if (!entry.appHost) {
      entry.foreign = true;
      return send(res, entry, 404, { error: { code: 404, message: 'Not Found (fake Google)', status: 'NOT_FOUND' } }, cors);
    }

    const ctx = {
      entry, method, pathname: url.pathname, query: url.searchParams, body,
      contentType: req.headers['content-type'], authorization, target,
    };

    // Faults from the network's side: before Google looks at the request at all.
    const netFault = takeFault(entry, ['drop', 'html502', 'html503', 'html504']);
    if (netFault?.type === 'drop') return dropConnection(req, entry);
    if (netFault) {
      const status = Number(netFault.type.slice(4));
      return sendHtml(res, entry, status, proxyErrorHtml(status), netFault.cors === false ? {} : cors);
    }

    if (hostName === TOKENINFO_HOST) {
      const out = handleTokeninfo(ctx) || [404, { error: 'not_found' }];
      if (out[0] === 404) violation('unexpected-endpoint', `${method} ${url.pathname}`, entry);
      // BROWSER-FACTS.md flag 2: nothing confirms tokeninfo sends CORS headers; a scenario can
      // take them away, and the browser then reports a network error, not the answer.
      return send(res, entry, out[0], out[1], scenario.tokeninfoCors === false ? {} : cors);
    }

    // A Bearer host. Its request body (a permission list, never a token) is kept in the log.
    entry.body = body;
    const svcMethod = `${hostName}${url.pathname}`;
    const consumer = scenario.consumerProject || CONSUMER_PROJECT;
    if (!authorization) return send(res, entry, 401, missingCredentialsBody(hostName, svcMethod), cors);
    const token = authorization.replace(/^Bearer\s+/i, '');
    const account = scenario.accounts?.[token];
    entry.sub = account?.sub;
    const wwwAuth = { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' };
    if (!account) return send(res, entry, 401, invalidTokenBody(hostName, svcMethod), { ...cors, ...wwwAuth });
    if (account.expired) return send(res, entry, 401, expiredTokenBody(hostName, svcMethod), { ...cors, ...wwwAuth });
    if ((scenario.disabledInConsumer || []).includes(hostName)) {
      return send(res, entry, 403, serviceDisabledBody(hostName, consumer, scenario.serviceDisabledAs), cors);
    }
    // Per-project faults (sweep.mjs): an API off in the consumer for requests about one
    // target, or a 429 that does not go away.
    const perTarget = takeFault(entry, ['serviceDisabled', 'http429']);
    if (perTarget?.type === 'serviceDisabled') {
      return send(res, entry, 403, serviceDisabledBody(hostName, consumer, scenario.serviceDisabledAs), cors);
    }
    if (perTarget) return send(res, entry, 429, rateLimitBody(hostName, consumer), cors);
    if (!scopesAllow(account, hostName)) {
      return send(res, entry, 403, scopeInsufficientBody(hostName, svcMethod), {
        ...cors,
        'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="insufficient_scope"',
      });
    }
    if (scenario.fail429Next > 0) {
      scenario.fail429Next -= 1;
      return send(res, entry, 429, rateLimitBody(hostName, consumer), cors);
    }
    const rateFault = takeFault(entry, ['rateLimitExceeded', 'userRateLimitExceeded']);
    if (rateFault) return send(res, entry, 403, legacyRateLimitBody(rateFault.type), cors);
    ctx.account = account;
    const out = route?.handler ? route.handler(ctx) : null;
    if (!out) {
      violation('unexpected-endpoint', `${method} ${url.pathname}`, entry);
      return send(res, entry, 404, aipError(404, 'NOT_FOUND', 'Not found (fake Google)'), cors);
    }
    return send(res, entry, out[0], out[1], { ...cors, ...(out[2] || {}) });
  }

  const server = http2.createSecureServer({ key, cert, allowHTTP1: true });
  server.on('request', (req, res) => {
    onRequest(req, res).catch((err) => {
      violations.push({ kind: 'fake-crashed', detail: String(err?.stack || err) });
      try { res.writeHead(500); res.end(); } catch { /* already sent */ }
    });
  });
  const sessions = new Set();
  server.on('session', (s) => { sessions.add(s); s.on('close', () => sessions.delete(s)); });
  const sockets = new Set();
  server.on('secureConnection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const actualPort = server.address().port;

  return {
    port: actualPort,
    host,
    /** Chromium flags that send every *.googleapis.com connection to this server. */
    chromiumArgs() {
      return [
        `--host-resolver-rules=MAP *.googleapis.com ${host}:${actualPort}`,
        '--ignore-certificate-errors',
      ];
    },
    /** Replaces the scenario (missing fields take their defaults). */
    setScenario(next) {
      scenario = { ...defaultScenario(), ...structuredClone(next) };
    },
    /** Changes part of the scenario in place, e.g. patchScenario(s => { s.accounts.x.expired = true }). */
    patchScenario(fn) { fn(scenario); },
    scenario() { return scenario; },
    setLatency(ms) { scenario.latencyMs = ms; },
    failNext(n) { scenario.fail429Next = n; },
    /** Adds a fault (see defaultScenario().faults), e.g. injectFault({ type: 'drop', kind: 'serviceusage.list' }). */
    injectFault(fault) { scenario.faults = [...(scenario.faults || []), { ...fault }]; },
    clearFaults() { scenario.faults = []; },
    disableInConsumer(service, off = true) {
      const set = new Set(scenario.disabledInConsumer || []);
      if (off) set.add(service); else set.delete(service);
      scenario.disabledInConsumer = [...set];
    },
    /** Milliseconds on the log's clock (the log's startMs/endMs use it). */
    now,
    /** A copy of the request log; app-host requests only unless {all: true}. */
    requests({ all = false } = {}) {
      return log.filter((e) => all || e.appHost).map((e) => ({ ...e }));
    },
    /** Index to pass to requestsSince(): the log position right now. */
    mark() { return log.length; },
    requestsSince(markIndex, { all = false } = {}) {
      return log.slice(markIndex).filter((e) => all || e.appHost).map((e) => ({ ...e }));
    },
    resetLog() { log.length = 0; },
    violations() { return violations.map((v) => ({ ...v })); },
    clearViolations() { violations.length = 0; },
    /** Resolves once every logged request has been answered (or after timeoutMs). */
    /** Waits until no logged request is still open; throws (naming them) after timeoutMs. */
    async settled(timeoutMs = 5000) {
      const end = Date.now() + timeoutMs;
      const open = () => log.filter((e) => e.endMs === null && !e.fault);
      while (open().length > 0 && Date.now() < end) await sleep(10);
      if (open().length > 0) {
        throw new Error(`requests still open after ${timeoutMs} ms: ${open().map((e) => `${e.method} ${e.host}${e.path}`).join('; ')}`);
      }
    },
    async stop() {
      for (const s of sessions) s.destroy();
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(() => r()));
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/**
 * Sequential round trips on the critical path of a request log: the longest chain of requests
 * in which each one starts only after the previous one was answered (request B can depend on
 * A only if B.startMs >= A.endMs). Requests fired together land in the same step even when they
 * arrive a few ms apart, so jitter does not merge or split steps (a step lasts >= the injected
 * latency). A preflight and the request it unlocks are two steps.
 * Returns { depth, chain } where chain lists "METHOD host path" per step of one longest chain.
 */
export function criticalPath(entries) {
  const rs = entries.filter((e) => e.endMs !== null).sort((a, b) => a.startMs - b.startMs);
  const depth = new Array(rs.length).fill(1);
  const prev = new Array(rs.length).fill(-1);
  for (let i = 0; i < rs.length; i += 1) {
    for (let j = 0; j < i; j += 1) {
      if (rs[j].endMs <= rs[i].startMs && depth[j] + 1 > depth[i]) {
        depth[i] = depth[j] + 1;
        prev[i] = j;
      }
    }
  }
  if (!rs.length) return { depth: 0, chain: [] };
  let k = depth.indexOf(Math.max(...depth));
  const chain = [];
  while (k !== -1) {
    const r = rs[k];
    chain.unshift(`${r.isPreflight ? 'OPTIONS(preflight)' : r.method} ${r.host}${r.path}`);
    k = prev[k];
  }
  return { depth: chain.length, chain };
}

/**
 * Busy periods: requests whose [startMs, endMs] intervals overlap (transitively) are merged.
 * A coarser view than criticalPath (arrival jitter between parallel requests can merge two
 * steps into one period); kept for the benchmark's table.
 */
export function busyPeriods(entries) {
  const iv = entries
    .filter((e) => e.endMs !== null)
    .map((e) => [e.startMs, e.endMs])
    .sort((a, b) => a[0] - b[0]);
  const periods = [];
  for (const [s, e] of iv) {
    const last = periods[periods.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else periods.push([s, e]);
  }
  return periods;
}
