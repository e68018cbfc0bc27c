// A fake Google for the end-to-end tests: one loopback HTTPS server that answers as
// oauth2 / cloudresourcemanager / serviceusage / storage / iam .googleapis.com would, including
// their CORS behaviour and their error bodies, and that records every request it sees.
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
//   await fake.stop();
//
// Each log entry has method, host, path, query, isPreflight, hasAuthorization, startMs, endMs,
// status, sub (the account behind the token) and, for Bearer hosts, body, permissions (the names
// asked: CRM / IAM JSON body, storage query) and services (Service Usage batchGet names).
//
// Like Google, Service Usage's batchGet needs serviceusage.services.get on the project: without
// it the answer is 403 PERMISSION_DENIED with ErrorInfo IAM_PERMISSION_DENIED naming it.

import http2 from 'node:http2';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';

// Hosts that may receive a Bearer token. Anything else carrying Authorization is a violation.
export const BEARER_HOSTS = Object.freeze([
  'cloudresourcemanager.googleapis.com',
  'serviceusage.googleapis.com',
  'storage.googleapis.com',
  'iam.googleapis.com',
]);
export const TOKENINFO_HOST = 'oauth2.googleapis.com';
export const APP_HOSTS = Object.freeze([TOKENINFO_HOST, ...BEARER_HOSTS]);

// The only request headers Google's CORS preflights allow that matter here.
export const CORS_ALLOWED_HEADERS = Object.freeze(['authorization', 'content-type', 'x-goog-user-project']);
export const CORS_MAX_AGE = 3600;

export const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';
export const DEFAULT_SCOPES = Object.freeze([
  'openid',
  'https://www.googleapis.com/auth/userinfo.email',
  CLOUD_PLATFORM,
]);
export const CONSUMER_PROJECT = '764086051850';
export const GCLOUD_CLIENT_ID = '32555940559.apps.googleusercontent.com';

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
  'compute.networks.list', 'compute.projects.get', 'compute.reservations.list',
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
};

/** An empty scenario: nobody, nothing. Every field is optional in setScenario. */
export function defaultScenario() {
  return {
    // token -> { sub, email, scopes?: [...], expired?: bool }
    accounts: {},
    // projectId -> { number, grants: { sub: [perm...] | ['*'] }, enabledServices: [...], visibleTo?: [sub...] }
    // visibleTo defaults to the subs that have a grants entry.
    projects: {},
    // bucket -> { grants: { sub: [perm...] | ['*'] } }
    buckets: {},
    // service account email -> { grants: { sub: [perm...] | ['*'] } }
    serviceAccounts: {},
    // services turned off in the consumer (quota) project: their host answers SERVICE_DISABLED
    disabledInConsumer: [],
    consumerProject: CONSUMER_PROJECT,
    // extra names accepted by Resource Manager's testIamPermissions (a '*' grant covers them too)
    extraTestable: [],
    // added to every request, preflights included
    latencyMs: 0,
    // the next N non-preflight requests to a Bearer host answer 429 RATE_LIMIT_EXCEEDED
    fail429Next: 0,
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

export function serviceDisabledBody(service, consumer) {
  const title = SERVICE_TITLES[service] || service;
  const url = `https://console.developers.google.com/apis/api/${service}/overview?project=${consumer}`;
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

// ---------- the server ----------

/**
 * Starts the fake. `port` 0 (default) picks a free port on 127.0.0.1.
 * Returns the control object described at the top of this file.
 */
export async function startFakeGoogle({ port = 0, host = '127.0.0.1' } = {}) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-google-'));
  const { key, cert } = makeCert(tmp);
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

  function projectVisible(project, sub) {
    if (!project) return false;
    const visible = project.visibleTo || Object.keys(project.grants || {});
    return visible.includes(sub);
  }

  function send(res, entry, status, body, extraHeaders = {}) {
    entry.status = status;
    const headers = { 'content-type': 'application/json; charset=UTF-8', ...extraHeaders };
    res.writeHead(status, headers);
    entry.endMs = now(); // when the answer is written: causally before any request it unlocks
    res.end(body === undefined ? '' : JSON.stringify(body));
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
    return [200, {
      azp: GCLOUD_CLIENT_ID,
      aud: GCLOUD_CLIENT_ID,
      sub: account.sub,
      scope: (account.scopes || DEFAULT_SCOPES).join(' '),
      exp: String(exp),
      expires_in: String(lifetime),
      email: account.email,
      email_verified: 'true',
      access_type: 'offline',
    }];
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

  function handleCrm(ctx) {
    const m = ctx.method === 'POST' && /^\/v1\/projects\/([^/:]+):testIamPermissions$/.exec(ctx.pathname);
    if (!m) return null;
    const projectId = decodeURIComponent(m[1]);
    const project = scenario.projects?.[projectId];
    if (!projectVisible(project, ctx.account.sub)) return [403, CALLER_DENIED];
    const asked = parseJsonPermissions(ctx.body);
    ctx.entry.permissions = asked;
    if (!asked) return [400, aipError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.')];
    if (asked.length > 100) {
      return [400, aipError(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.')];
    }
    const testable = new Set([...TESTABLE_ON_PROJECT, ...(scenario.extraTestable || [])]);
    const bad = asked.find((p) => UNTESTABLE_ON_PROJECT.includes(p) || p.startsWith('billing.') || !testable.has(p));
    if (bad !== undefined) {
      return [400, aipError(400, 'INVALID_ARGUMENT', `Permission ${bad} is not valid for this resource.`)];
    }
    const held = grantsFor(project, ctx.account.sub, testable);
    const answer = [...new Set(asked.filter((p) => held.has(p)))];
    return [200, answer.length ? { permissions: answer } : {}];
  }

  function handleServiceUsage(ctx) {
    const m = ctx.method === 'GET' && /^\/v1\/projects\/([^/]+)\/services:batchGet$/.exec(ctx.pathname);
    if (!m) return null;
    const projectId = decodeURIComponent(m[1]);
    const project = scenario.projects?.[projectId];
    ctx.entry.services = ctx.query.getAll('names').map((n) => n.split('/services/').pop());
    if (!projectVisible(project, ctx.account.sub)) return [403, CALLER_DENIED];
    // As on Google, reading services' state needs serviceusage.services.get on the project.
    if (!grantsFor(project, ctx.account.sub, TESTABLE_ON_PROJECT).has('serviceusage.services.get')) {
      return [403, iamPermissionDeniedBody('serviceusage.googleapis.com', 'serviceusage.services.get', `projects/${projectId}`)];
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

  function handleStorage(ctx) {
    const m = ctx.method === 'GET' && /^\/storage\/v1\/b\/([^/]+)\/iam\/testPermissions$/.exec(ctx.pathname);
    if (!m) return null;
    const bucketName = decodeURIComponent(m[1]);
    const asked = ctx.query.getAll('permissions');
    ctx.entry.permissions = asked;
    const bad = asked.find((p) => !p.startsWith('storage.'));
    if (bad !== undefined) {
      return [400, legacyError(400, `${bad} is not a valid Google Cloud Storage permission.`, 'invalid')];
    }
    const bucket = scenario.buckets?.[bucketName];
    if (!bucket) return [404, legacyError(404, 'The specified bucket does not exist.', 'notFound')];
    const held = grantsFor(bucket, ctx.account.sub, TESTABLE_ON_BUCKET);
    const answer = [...new Set(asked.filter((p) => held.has(p)))];
    const body = { kind: 'storage#testIamPermissionsResponse' };
    if (answer.length) body.permissions = answer; // absent, not [], when none is held
    return [200, body];
  }

  function handleIam(ctx) {
    const m = ctx.method === 'POST' && /^\/v1\/projects\/-\/serviceAccounts\/([^/:]+):testIamPermissions$/.exec(ctx.pathname);
    if (!m) return null;
    const email = decodeURIComponent(m[1]);
    const sa = scenario.serviceAccounts?.[email];
    if (!sa) return [404, aipError(404, 'NOT_FOUND', 'Unknown service account')];
    const asked = parseJsonPermissions(ctx.body);
    ctx.entry.permissions = asked;
    if (!asked) return [400, aipError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.')];
    const bad = asked.find((p) => !TESTABLE_ON_SERVICE_ACCOUNT.includes(p));
    if (bad !== undefined) {
      return [400, aipError(400, 'INVALID_ARGUMENT', `Permission ${bad} is not valid for this resource.`)];
    }
    const held = grantsFor(sa, ctx.account.sub, TESTABLE_ON_SERVICE_ACCOUNT);
    const answer = [...new Set(asked.filter((p) => held.has(p)))];
    return [200, answer.length ? { permissions: answer } : {}];
  }

  const BEARER_HANDLERS = {
    'cloudresourcemanager.googleapis.com': handleCrm,
    'serviceusage.googleapis.com': handleServiceUsage,
    'storage.googleapis.com': handleStorage,
    'iam.googleapis.com': handleIam,
  };

  function scopesAllow(account, hostName) {
    const scopes = account.scopes || DEFAULT_SCOPES;
    if (scopes.includes(CLOUD_PLATFORM) || scopes.includes(`${CLOUD_PLATFORM}.read-only`)) return true;
    if (hostName === 'storage.googleapis.com') {
      return scopes.some((s) => s.startsWith('https://www.googleapis.com/auth/devstorage.'));
    }
    return false;
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
    const entry = {
      method,
      host: hostName,
      path: url.pathname,
      query: url.search.replace(/^\?/, ''),
      isPreflight,
      hasAuthorization: !!authorization,
      startMs,
      endMs: null,
      status: null,
      origin: origin || null,
      appHost: APP_HOSTS.includes(hostName),
      httpVersion: req.httpVersion,
      sub: undefined,
      // Bearer hosts only: the raw request body, and what was asked (filled in by the handlers):
      body: null, //         the body text (CRM / IAM: {"permissions": [...]})
      permissions: null, //  permission names asked (CRM / IAM body, storage query)
      services: null, //     service names asked (Service Usage batchGet)
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
      contentType: req.headers['content-type'], authorization,
    };

    if (hostName === TOKENINFO_HOST) {
      const out = handleTokeninfo(ctx) || [404, { error: 'not_found' }];
      if (out[0] === 404) violation('unexpected-endpoint', `${method} ${url.pathname}`, entry);
      return send(res, entry, out[0], out[1], cors);
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
      return send(res, entry, 403, serviceDisabledBody(hostName, consumer), cors);
    }
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
    ctx.account = account;
    const out = BEARER_HANDLERS[hostName](ctx);
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
    async settled(timeoutMs = 5000) {
      const end = Date.now() + timeoutMs;
      while (log.some((e) => e.endMs === null) && Date.now() < end) await sleep(10);
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
