// Hosting (issue #10 items 1 and 2): the release bundle served by nginx through deploy/nginx.conf,
// under a sub-path and at the root, unchanged; the security headers nginx sends; and the CSP
// refusing an injected inline script, both where only the page's <meta> policy applies and where
// nginx sends the policy as a header.
//
//   DIST_DIR=$PWD/dist node tests/e2e/hosting.mjs
//
// Needs Debian's nginx on PATH (scripts/test installs it). nginx is started by this file, in the
// foreground, with its own prefix, pid file and logs in a temp directory, and stopped at the end.
// Prints `ok - name` / `not ok - name` and `N passed, N failed`; exits 1 on a failure.

import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { spawn, execFileSync } from 'node:child_process';
import {
  startStaticServer, launchBrowser, createRunner, assert, assertEqual, poll, distDir, HERE,
} from './harness.mjs';
import { startFakeGoogle } from './fake-google.mjs';
import { AppPage } from './app-page.mjs';
import { world, TOKENS, ACCOUNTS, SEED_MISSING } from './world.mjs';
import { policyText, NGINX_CONF } from '../../scripts/post-build.mjs';

const SUB_PATH = '/gcp-preflight/';
const SEED = { compute: 'Not ready', storage: 'Ready', managedJobs: 'Not ready' };
const IMMUTABLE = 'public, max-age=31536000, immutable';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------- nginx, from deploy/nginx.conf ----------

/**
 * Splits nginx config text into its top-level statements (`name args;` or `name args { … }`),
 * each with its text. Quotes and comments are respected, so a `{16}` inside a quoted regex
 * is not a block.
 */
function topLevelStatements(text) {
  const out = [];
  let depth = 0;
  let start = 0;
  let quote = null;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i += 1;
      else if (c === quote) quote = null;
    } else if (c === '#') {
      const nl = text.indexOf('\n', i);
      i = nl === -1 ? text.length : nl;
      if (depth === 0) start = i + 1;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '{') {
      depth += 1;
    } else if (c === '}' || (c === ';' && depth === 0)) {
      if (c === '}') depth -= 1;
      if (depth === 0) {
        out.push(text.slice(start, i + 1).trim());
        start = i + 1;
      }
    }
  }
  return out.filter(Boolean);
}

/** Replaces `pattern` in `text`, and fails when it is not there exactly `times` times. */
function replaceExactly(text, pattern, replacement, times, what) {
  const found = (text.match(new RegExp(pattern.source, 'gm')) || []).length;
  if (found !== times) throw new Error(`deploy/nginx.conf: expected ${times} × ${what}, found ${found}`);
  return text.replace(new RegExp(pattern.source, 'gm'), replacement);
}

/**
 * The server blocks nginx runs here, derived from deploy/nginx.conf: its `map` and its HTTPS
 * server block as they are, with only the listen address (plain HTTP on loopback: a secure
 * context without a certificate), the certificate lines and `root` changed. One copy per site.
 */
export function derivedConfig(sites) {
  const statements = topLevelStatements(fs.readFileSync(NGINX_CONF, 'utf8'));
  const maps = statements.filter((s) => /^map\s/.test(s));
  const servers = statements.filter((s) => /^server\s*\{/.test(s) && /\broot\s/.test(s));
  if (maps.length !== 1 || servers.length !== 1) {
    throw new Error(`deploy/nginx.conf: expected one map and one server block with a root, found ${maps.length} and ${servers.length}`);
  }
  const blocks = sites.map(({ port, root }) => {
    let s = servers[0];
    s = replaceExactly(s, /^\s*listen 443 ssl http2;$/, `    listen 127.0.0.1:${port};`, 1, 'listen 443');
    s = replaceExactly(s, /^\s*listen \[::\]:443 ssl http2;$/, '', 1, 'listen [::]:443');
    s = replaceExactly(s, /^\s*ssl_certificate(_key)? .*;$/, '', 2, 'ssl_certificate lines');
    s = replaceExactly(s, /^\s*root \/srv\/gcp-preflight;$/, `    root ${root};`, 1, 'root');
    return s;
  });
  return [maps[0], ...blocks].join('\n\n');
}

async function freePort() {
  const server = net.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

function httpGet(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${url} timed out`)));
  });
}

/**
 * Starts nginx in the foreground (`daemon off`) with everything in a temp dir: the bundle at
 * SUB_PATH on one port (through a symlink to dist/, so the bytes are the same files) and at the
 * root on another. Returns { subUrl, rootUrl, stop() }.
 */
async function startNginx(dist) {
  const nginx = ['/usr/sbin/nginx', ...((process.env.PATH || '').split(':').map((d) => path.join(d, 'nginx')))]
    .find((p) => fs.existsSync(p));
  if (!nginx) throw new Error('nginx not found: apt-get install -y nginx (scripts/test does)');
  const mime = '/etc/nginx/mime.types';
  if (!fs.existsSync(mime)) throw new Error(`${mime} not found (Debian's nginx-common provides it)`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gcp-preflight-nginx-'));
  // nginx's workers drop to an unprivileged user when started as root: they must read the tree.
  fs.chmodSync(tmp, 0o755);
  const www = path.join(tmp, 'www');
  fs.mkdirSync(www, { mode: 0o755 });
  fs.symlinkSync(dist, path.join(www, SUB_PATH.replace(/\//g, '')));

  for (let attempt = 1; ; attempt += 1) {
    const [subPort, rootPort] = [await freePort(), await freePort()];
    const site = derivedConfig([{ port: subPort, root: www }, { port: rootPort, root: dist }]);
    fs.writeFileSync(path.join(tmp, 'gcp-preflight.conf'), `${site}\n`);
    const temp = (name) => `${name}_temp_path ${path.join(tmp, name)};`;
    fs.writeFileSync(path.join(tmp, 'nginx.conf'), [
      'daemon off;',
      'worker_processes 1;',
      `pid ${path.join(tmp, 'nginx.pid')};`,
      `error_log ${path.join(tmp, 'error.log')} warn;`,
      'events { worker_connections 64; }',
      'http {',
      `  include ${mime};`,
      '  default_type application/octet-stream;',
      `  access_log ${path.join(tmp, 'access.log')};`,
      `  ${temp('client_body')} ${temp('proxy')} ${temp('fastcgi')} ${temp('uwsgi')} ${temp('scgi')}`,
      `  include ${path.join(tmp, 'gcp-preflight.conf')};`,
      '}',
      '',
    ].join('\n'));
    execFileSync(nginx, ['-t', '-q', '-p', tmp, '-c', path.join(tmp, 'nginx.conf'), '-e', path.join(tmp, 'error.log')], { stdio: 'pipe' });
    const proc = spawn(nginx, ['-p', tmp, '-c', path.join(tmp, 'nginx.conf'), '-e', path.join(tmp, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (d) => { stderr += d; });
    const exited = new Promise((r) => proc.once('exit', (code, signal) => r({ code, signal })));
    const subUrl = `http://127.0.0.1:${subPort}${SUB_PATH}`;
    const rootUrl = `http://127.0.0.1:${rootPort}/`;
    const up = await Promise.race([
      poll(async () => (await httpGet(subUrl)).status === 200 && (await httpGet(rootUrl)).status === 200, { timeout: 15_000, interval: 50, what: 'nginx answering' })
        .then(() => true, () => false),
      exited.then(() => false),
    ]);
    const stop = async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGQUIT'); // graceful: finishes open answers, then the master exits
        const done = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
        if (!done) { proc.kill('SIGKILL'); await exited; }
      }
    };
    if (up) {
      return {
        subUrl,
        rootUrl,
        errorLog: () => fs.readFileSync(path.join(tmp, 'error.log'), 'utf8'),
        accessLog: () => fs.readFileSync(path.join(tmp, 'access.log'), 'utf8'),
        async stop() {
          await stop();
          fs.rmSync(tmp, { recursive: true, force: true });
        },
      };
    }
    await stop();
    const log = fs.existsSync(path.join(tmp, 'error.log')) ? fs.readFileSync(path.join(tmp, 'error.log'), 'utf8') : '';
    // A port taken between freePort() and nginx's bind: try other ports.
    if (attempt < 3 && /Address already in use/.test(log + stderr)) continue;
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`nginx did not start: ${stderr}${log}`);
  }
}

// ---------- the CSP probe ----------

/**
 * Tries to run script three ways the CSP must refuse (an inline <script>, an inline event
 * handler, a javascript: URL) and reports which ran and which violations the page saw.
 */
async function injectInlineScripts(page) {
  return page.evaluate(async () => {
    window.__ran = [];
    const violations = [];
    const onViolation = (e) => violations.push({
      directive: e.effectiveDirective, disposition: e.disposition, policy: e.originalPolicy, sample: e.sample,
    });
    document.addEventListener('securitypolicyviolation', onViolation);
    const script = document.createElement('script');
    script.textContent = "window.__ran.push('inline-script')";
    document.body.appendChild(script);
    const img = document.createElement('img');
    img.setAttribute('onerror', "window.__ran.push('event-handler')");
    img.src = 'data:,not-an-image';
    document.body.appendChild(img);
    const a = document.createElement('a');
    a.href = "javascript:window.__ran.push('javascript-url')";
    document.body.appendChild(a);
    a.click();
    await new Promise((r) => setTimeout(r, 300));
    document.removeEventListener('securitypolicyviolation', onViolation);
    script.remove(); img.remove(); a.remove();
    return { ran: window.__ran, violations };
  });
}

/** The three refused, each with a violation of the policy that `fromHeader` says enforced it. */
function assertRefused(result, { fromHeader }) {
  assertEqual(result.ran, [], 'script that ran despite the CSP');
  const directives = [...new Set(result.violations.map((v) => v.directive))].sort();
  assertEqual(directives, ['script-src-attr', 'script-src-elem'], 'violated directives');
  const headerPolicy = policyText();
  const metaPolicy = policyText({ meta: true });
  const policies = [...new Set(result.violations.map((v) => v.policy))].sort();
  assertEqual(policies, (fromHeader ? [headerPolicy, metaPolicy] : [metaPolicy]).sort(),
    'policies that refused it (the header one has frame-ancestors, the <meta> one does not)');
  assert(result.violations.every((v) => v.disposition === 'enforce'), 'every violation enforced, not report-only');
}

// ---------- the suite ----------

async function main() {
  const dist = distDir();
  const indexOnDisk = fs.readFileSync(path.join(dist, 'index.html'));
  let nginx;
  let site;
  let fake;
  let browser;
  try {
    nginx = await startNginx(dist);
    site = await startStaticServer(dist); // meta-only serving: no CSP header at all
    fake = await startFakeGoogle();
    browser = await launchBrowser(fake);
    fake.setScenario(world());
    const { page } = browser;
    const app = new AppPage(page);
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(String(e?.message || e)));
    const t = createRunner({
      onFailure: async (name) => {
        const dir = path.join(HERE, 'artifacts');
        fs.mkdirSync(dir, { recursive: true });
        await page.screenshot({ path: path.join(dir, `hosting-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 80)}.png`) });
      },
    });

    const assetUrls = () => {
      const html = indexOnDisk.toString('utf8');
      const refs = [...html.matchAll(/\b(?:href|src)=["']?([^"' >]+)/g)].map((m) => m[1]).filter((u) => !u.startsWith('data:'));
      return refs;
    };

    t.test('every URL in the bundle is relative (no leading /, no host), the loader included', async () => {
      const refs = assetUrls();
      assert(refs.length >= 4, `expected the css, loader, js and wasm, got ${JSON.stringify(refs)}`);
      for (const u of refs) assert(u.startsWith('./'), `not relative: ${u}`);
      assert(refs.some((u) => /^\.\/loader-[0-9a-f]{16}\.js$/.test(u)), `no external loader in ${JSON.stringify(refs)}`);
      const loader = fs.readFileSync(path.join(dist, refs.find((u) => u.includes('loader-'))), 'utf8');
      // Trunk's hash is hex without leading zeros: 15 digits in one build of 16 (deploy/nginx.conf).
      assert(/from '\.\/gcp-preflight-[0-9a-f]{8,16}\.js'/.test(loader) && /'\.\/gcp-preflight-[0-9a-f]{8,16}_bg\.wasm'/.test(loader),
        `the loader's imports are not relative: ${loader}`);
      assert(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(indexOnDisk.toString('utf8')), 'index.html still has an inline <script>');
    });

    let indexHeaders;
    t.test(`nginx serves ${SUB_PATH} with the security headers as HTTP headers`, async () => {
      const res = await httpGet(nginx.subUrl);
      assertEqual(res.status, 200, 'status');
      indexHeaders = res.headers;
      const h = res.headers;
      assertEqual(h['content-security-policy'], policyText(), 'Content-Security-Policy (deploy/csp.txt, header form)');
      assert(h['content-security-policy'].includes("frame-ancestors 'none'"), 'frame-ancestors');
      assert(!h['content-security-policy'].includes('unsafe-inline'), 'no unsafe-inline');
      assertEqual(h['referrer-policy'], 'no-referrer', 'Referrer-Policy');
      assertEqual(h['x-content-type-options'], 'nosniff', 'X-Content-Type-Options');
      assertEqual(h['x-frame-options'], 'DENY', 'X-Frame-Options');
      assertEqual(h['cross-origin-opener-policy'], 'same-origin-allow-popups', 'Cross-Origin-Opener-Policy');
      assert(/^max-age=\d{8,}/.test(h['strict-transport-security'] || ''), 'Strict-Transport-Security');
      assertEqual(h['cache-control'], 'no-cache', 'index.html is revalidated on every load');
      assert(/^text\/html/.test(h['content-type']), `content-type ${h['content-type']}`);
      assert(!/nginx\/\d/.test(h.server || ''), 'server_tokens off');
      assert(res.body.equals(indexOnDisk), 'index.html is served byte for byte as built');
      const shown = ['content-type', 'cache-control', 'content-security-policy', 'x-frame-options', 'x-content-type-options',
        'referrer-policy', 'cross-origin-opener-policy', 'cross-origin-resource-policy', 'strict-transport-security', 'permissions-policy']
        .map((k) => `${k}: ${h[k]}`);
      for (const line of shown) console.log(`  # ${line}`);
    });

    t.test('hashed files: cached a year, immutable; wasm as application/wasm; the same headers', async () => {
      for (const ref of assetUrls()) {
        const res = await httpGet(new URL(ref, nginx.subUrl).href);
        assertEqual(res.status, 200, `${ref} status`);
        assertEqual(res.headers['cache-control'], IMMUTABLE, `${ref} cache-control`);
        assertEqual(res.headers['x-content-type-options'], 'nosniff', `${ref} nosniff`);
        assertEqual(res.headers['content-security-policy'], policyText(), `${ref} CSP`);
        const type = res.headers['content-type'] || '';
        if (ref.endsWith('.wasm')) assertEqual(type, 'application/wasm', `${ref} content-type`);
        if (ref.endsWith('.js')) assert(/^(text|application)\/javascript/.test(type), `${ref} content-type ${type}`);
        if (ref.endsWith('.css')) assert(/^text\/css/.test(type), `${ref} content-type ${type}`);
        assert(res.body.equals(fs.readFileSync(path.join(dist, ref))), `${ref} bytes`);
      }
    });

    t.test('role data and a host config are revalidated (no-cache); hidden files are not served', async () => {
      const roles = await httpGet(new URL('roles/skypilot.json', nginx.subUrl).href);
      assertEqual(roles.status, 200, 'roles/skypilot.json status');
      assertEqual(roles.headers['cache-control'], 'no-cache', 'roles cache-control');
      assert(/^application\/json/.test(roles.headers['content-type']), `roles content-type ${roles.headers['content-type']}`);
      // config.json is what a host adds beside index.html: absent here, and still no-cache, with the headers.
      const config = await httpGet(new URL('config.json', nginx.subUrl).href);
      assertEqual([config.status, config.headers['cache-control'], config.headers['x-content-type-options']],
        [404, 'no-cache', 'nosniff'], 'config.json (absent)');
      const hidden = await httpGet(new URL('.git/config', nginx.subUrl).href);
      assertEqual(hidden.status, 404, '.git/config');
    });

    t.test('the sub-path without its slash redirects to it, with a relative Location', async () => {
      const res = await httpGet(nginx.subUrl.replace(/\/$/, ''));
      assertEqual([res.status, res.headers.location], [301, SUB_PATH], 'redirect');
    });

    t.test('the same bundle, unchanged, at the root: same bytes, same headers', async () => {
      const res = await httpGet(nginx.rootUrl);
      assertEqual(res.status, 200, 'status');
      assert(res.body.equals(indexOnDisk), 'index.html at / is the same bytes as at the sub-path');
      assertEqual(res.headers['content-security-policy'], indexHeaders['content-security-policy'], 'CSP');
      for (const ref of assetUrls()) {
        const a = await httpGet(new URL(ref, nginx.rootUrl).href);
        assertEqual(a.status, 200, `${ref} at /`);
      }
    });

    /** Opens `url`, runs alice's seed check there, and returns the requests it sent. */
    async function seedCheck(url) {
      await app.open(url);
      await page.evaluate(() => localStorage.clear());
      await app.reload();
      await app.enterToken(TOKENS.alice);
      await app.waitForIdentity(ACCOUNTS.alice.email);
      await app.enterProject('demo-seed-1');
      const mark = fake.mark();
      await app.clickAndSettle('Check');
      assertEqual(await app.verdicts(), SEED, 'verdicts');
      const codes = await app.codes();
      for (const p of SEED_MISSING) assert(codes.includes(p), `missing ${p} not shown`);
      return fake.requestsSince(mark);
    }

    for (const [where, url] of [['under the sub-path', () => nginx.subUrl], ['at the root', () => nginx.rootUrl]]) {
      t.test(`a check ${where} through nginx, against the fake Google`, async () => {
        const reqs = await seedCheck(url());
        const origin = new URL(url()).origin;
        assert(reqs.length > 0 && reqs.every((r) => r.origin === origin), `requests from ${origin}: ${JSON.stringify(reqs.map((r) => r.origin))}`);
        // The fix advice fetched its role data lazily, relative to the page: under the sub-path there.
        const base = new URL(url()).pathname;
        await poll(() => nginx.accessLog().includes(`"GET ${base}roles/skypilot.json HTTP`), { what: `GET ${base}roles/skypilot.json in nginx's access log` });
        if (base !== '/') assert(!nginx.accessLog().includes('"GET /roles/'), 'role data asked from the host root');
        // ...by the advice worker, itself loaded from beside the page, whose advice reaches the card
        // (under nginx's CSP header, which the worker's own script answers carry).
        assert(nginx.accessLog().includes(`"GET ${base}advice_worker_bg.wasm HTTP`), `GET ${base}advice_worker_bg.wasm in nginx's access log`);
        await poll(async () => (await app.card('compute'))?.roles.length > 0, { what: 'the advice in the Compute card', timeout: 20_000 });
        assertEqual(fake.violations(), [], 'fake Google violations');
        assertEqual(pageErrors, [], 'page errors');
      });
    }

    t.test('the demo under the sub-path: its worker is loaded from beside the page, and answers', async () => {
      await app.open(nginx.subUrl);
      await app.button('Try the demo').click({ timeout: 20_000 });
      await app.clickAndSettle('Check');
      // The demo's seed story (src/core/demo.rs): storage works, compute does not.
      assertEqual(await app.verdicts(), { compute: 'Not ready', storage: 'Ready', managedJobs: 'Not ready' }, 'demo verdicts');
      const base = new URL(nginx.subUrl).pathname;
      assert(nginx.accessLog().includes(`"GET ${base}demo_worker_bg.wasm HTTP`), `GET ${base}demo_worker_bg.wasm in nginx's access log`);
      assertEqual(pageErrors, [], 'page errors');
    });

    t.test('nginx serving (header + <meta>): an injected inline script, handler and javascript: URL are refused', async () => {
      await app.open(nginx.subUrl);
      assertRefused(await injectInlineScripts(page), { fromHeader: true });
      assertEqual(pageErrors, [], 'page errors');
    });

    t.test('meta-only serving (no CSP header): the same injections are refused by the <meta> policy', async () => {
      const res = await httpGet(site.url);
      assertEqual(res.headers['content-security-policy'], undefined, 'the plain server sends no CSP header');
      await app.open(site.url);
      assertRefused(await injectInlineScripts(page), { fromHeader: false });
    });

    t.test('control: without a CSP the same probe does run script (so the two tests above can fail)', async () => {
      // A fresh document (setContent on the app's page would keep the app's policy).
      await page.goto('about:blank');
      await page.setContent('<!doctype html><title>no csp</title><body></body>');
      const result = await injectInlineScripts(page);
      assertEqual([...result.ran].sort(), ['event-handler', 'inline-script', 'javascript-url'], 'script that ran');
      assertEqual(result.violations, [], 'violations');
    });

    t.test("frame-ancestors 'none': a page of another origin cannot frame the nginx-served app", async () => {
      const framer = http.createServer((req, res) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(`<!doctype html><iframe id="f" src="${nginx.subUrl}" width="800" height="600"></iframe>`);
      });
      await new Promise((r) => framer.listen(0, '127.0.0.1', r));
      try {
        await page.goto(`http://localhost:${framer.address().port}/`);
        const frame = await poll(async () => page.frames().find((f) => f !== page.mainFrame()), { what: 'the iframe' });
        await sleep(1_500);
        // Blocked by the header, the frame never runs the app: no token field, no refusal text.
        const inside = await frame.evaluate(() => document.body?.innerText || '').catch(() => '');
        assert(!/Access token|does not take a token/.test(inside), `the framed app rendered: ${inside.slice(0, 200)}`);
        assert(!frame.url().startsWith(nginx.subUrl) || inside === '', `frame loaded ${frame.url()}`);
      } finally {
        framer.closeAllConnections?.();
        await new Promise((r) => framer.close(r));
      }
    });

    const failed = await t.run();
    const errors = nginx.errorLog().split('\n').filter((l) => /\[(emerg|alert|crit|error)\]/.test(l) && !/open\(\) ".*(\.git\/config|config\.json)" failed/.test(l));
    if (errors.length) {
      console.log(`not ok - nginx error log is clean\n${errors.map((l) => `  # ${l}`).join('\n')}`);
      return failed + 1;
    }
    return failed;
  } finally {
    if (browser) await browser.close();
    if (site) await site.stop();
    if (fake) await fake.stop();
    if (nginx) await nginx.stop();
  }
}

main().then((failed) => process.exit(failed ? 1 : 0), (err) => {
  console.error(err);
  process.exit(1);
});
