// Shared pieces of the e2e suite, the benchmark and the self-test: a tiny static server, the
// Chromium launcher (routed to the fake Google), a TAP-like test runner and polling helpers.

import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.woff2': 'font/woff2',
};

/**
 * Serves `dir` on 127.0.0.1 (random free port). A path with an extension that is missing is
 * retried without its first segment (so a build made with `--public-url /some-base/` still
 * loads from the root); any other miss falls back to index.html (SPA routing).
 */
export async function startStaticServer(dir) {
  const root = path.resolve(dir);
  const index = path.join(root, 'index.html');
  if (!fs.existsSync(index)) throw new Error(`no index.html in ${root} (build the app first: trunk build --release)`);
  const fileFor = (urlPath) => {
    const clean = path.normalize(decodeURIComponent(urlPath)).replace(/^(\.\.[/\\])+/, '');
    const p = path.join(root, clean);
    if (!p.startsWith(root)) return null;
    try { if (fs.statSync(p).isFile()) return p; } catch { /* missing */ }
    return null;
  };
  const server = http.createServer((req, res) => {
    const urlPath = new URL(req.url, 'http://x').pathname;
    let file = fileFor(urlPath);
    if (!file && path.extname(urlPath)) {
      const stripped = urlPath.replace(/^\/[^/]+/, '');
      if (stripped) file = fileFor(stripped);
      if (!file) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        return res.end('not found');
      }
    }
    if (!file) file = index;
    const type = MIME[path.extname(file).toLowerCase()] || 'application/octet-stream';
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/`,
    async stop() {
      server.closeAllConnections?.();
      await new Promise((r) => server.close(() => r()));
    },
  };
}

export function distDir() {
  return path.resolve(process.env.DIST_DIR || path.join(HERE, '..', '..', 'dist'));
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Chromium's own calls to *.googleapis.com would also reach the fake; keep them out.
  '--disable-features=AutofillServerCommunication,OptimizationHints,MediaRouter,Translate',
];

/** A persistent context on a fresh user-data-dir, routed to the fake Google. */
export async function launchBrowser(fake) {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: apt-get install -y chromium chromium-driver`);
  }
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gcp-preflight-e2e-profile-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, ...fake.chromiumArgs()],
    viewport: { width: 1280, height: 900 },
  });
  const page = context.pages()[0] || (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` (async, truthy = done) every `interval` ms for at most `timeout` ms. */
export async function poll(fn, { timeout = 10_000, interval = 25, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= end) {
      const why = last instanceof Error ? `: ${last.message.split('\n')[0]}` : '';
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${why}`);
    }
    await sleep(interval);
  }
}

export function assert(cond, message) {
  if (!cond) throw new Error(message);
}

export function assertEqual(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

/**
 * A minimal sequential runner: `test(name, fn)` registers, `run()` executes in order and prints
 * `ok - name` / `not ok - name`, then `N passed, N failed`. Returns the failure count.
 */
export function createRunner({ onFailure } = {}) {
  const tests = [];
  return {
    test(name, fn) { tests.push({ name, fn }); },
    async run() {
      let passed = 0;
      let failed = 0;
      for (const t of tests) {
        try {
          const note = await t.fn();
          passed += 1;
          console.log(`ok - ${t.name}${note ? ` # ${note}` : ''}`);
        } catch (err) {
          failed += 1;
          console.log(`not ok - ${t.name}`);
          for (const line of String(err?.stack || err).split('\n').slice(0, 6)) console.log(`  # ${line}`);
          if (onFailure) await onFailure(t.name, err).catch(() => {});
        }
      }
      console.log(`${passed} passed, ${failed} failed`);
      return failed;
    },
  };
}

/**
 * What a suite about the page's web workers watches in `browser` (from launchBrowser): `fetched`,
 * the path of every request of the page and of its workers (the context sees both), with
 * `count(fileName)`; the page's Content-Security-Policy console complaints and its uncaught
 * errors; and a runner that saves a screenshot named `<suite>-<test>.png` in the temp folder
 * when a test fails.
 */
export function watchWorkerSuite(browser, suite) {
  const { page, context } = browser;
  const fetched = [];
  context.on('request', (r) => fetched.push(new URL(r.url()).pathname));
  const cspComplaints = [];
  page.on('console', (m) => { if (/Content[- ]Security[- ]Policy/i.test(m.text())) cspComplaints.push(m.text()); });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  const runner = createRunner({
    onFailure: async (name) => page.screenshot({ path: path.join(os.tmpdir(), `${suite}-${name.slice(0, 30).replace(/\W+/g, '-')}.png`), fullPage: true }),
  });
  const count = (name) => fetched.filter((f) => f.split('/').pop() === name).length;
  return { runner, fetched, count, cspComplaints, pageErrors };
}

/**
 * Starts the static server for `dir` (which checks index.html first), the fake Google and
 * Chromium, runs `fn({ site, fake, browser })`, and always stops whatever was started.
 */
export async function withEnvironment(dir, fn) {
  const { startFakeGoogle } = await import('./fake-google.mjs');
  let site;
  let fake;
  let browser;
  try {
    site = await startStaticServer(dir);
    fake = await startFakeGoogle();
    browser = await launchBrowser(fake);
    return await fn({ site, fake, browser });
  } finally {
    if (browser) await browser.close();
    if (site) await site.stop();
    if (fake) await fake.stop();
  }
}
