// Sign in with Google and the project picker, end to end: the release bundle (DIST_DIR) in
// headless Chromium, Google APIs answered by the fake Google, and
// https://accounts.google.com/gsi/client answered by a stand-in (gis-stand-in.js) through
// Playwright routing: nothing reaches Google.
//
//   DIST_DIR=$PWD/dist node tests/e2e/signin.mjs
//
// Three copies of the bundle are served: without config.json (the default), with a valid one,
// and with a malformed one. Prints `ok - …` lines and the picker's filter timings.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startFakeGoogle, TESTABLE_ON_PROJECT, DEFAULT_SCOPES } from './fake-google.mjs';
import {
  startStaticServer, launchBrowser, createRunner, assert, assertEqual, poll, distDir, HERE,
} from './harness.mjs';
import { AppPage } from './app-page.mjs';
import { world, ENABLED } from './world.mjs';

const CLIENT_ID = '123456789012-e2estandin0abcdefghijklmnopqrs.apps.googleusercontent.com';
const SCOPES_ASKED = 'https://www.googleapis.com/auth/cloud-platform openid email';
const GIS_TOKEN = 'fake-e2e-token-SAMsignedInWithGISRRRRSSSSTTTT';
const SAM = { sub: '9001', email: 'sam@example.com' };
const PICKER_COUNT = 2500;
const SEARCH_PAGE = 300; // what the fake serves per page, whatever the app asks
const pickerId = (i) => `picker-${String(i).padStart(5, '0')}`;
const CHECKED = pickerId(42); // the one project Sam holds everything on
const STAND_IN = fs.readFileSync(path.join(HERE, 'gis-stand-in.js'), 'utf8');
const ARTIFACTS = path.join(HERE, 'artifacts');

function scenario() {
  const w = world();
  w.accounts[GIS_TOKEN] = { ...SAM, azp: CLIENT_ID, scopes: [...DEFAULT_SCOPES] };
  for (let i = 0; i < PICKER_COUNT; i += 1) {
    w.projects[pickerId(i)] = {
      number: String(520000000000 + i),
      displayName: i % 2 ? `Team ${i}` : pickerId(i),
      grants: { [SAM.sub]: i === 42 ? ['*'] : ['resourcemanager.projects.get'] },
      enabledServices: [...ENABLED],
    };
  }
  // Visible to Sam but going away: projects.search with state:ACTIVE leaves them out.
  for (const id of ['picker-gone-a', 'picker-gone-b', 'picker-gone-c']) {
    w.projects[id] = { number: '529999999999', state: 'DELETE_REQUESTED', grants: { [SAM.sub]: ['resourcemanager.projects.get'] }, enabledServices: [] };
  }
  w.searchPageSize = SEARCH_PAGE;
  return w;
}

/** A copy of the bundle with `config` as config.json (or none). */
function bundleWith(config) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gcp-preflight-signin-'));
  fs.cpSync(distDir(), dir, { recursive: true });
  fs.rmSync(path.join(dir, 'config.json'), { force: true });
  if (config !== null) fs.writeFileSync(path.join(dir, 'config.json'), config);
  return dir;
}

const norm = (s) => (s || '').replace(/\s+/g, ' ').trim();

async function main() {
  assert(!fs.existsSync(path.join(distDir(), 'config.json')), 'the release bundle must not ship a config.json');
  const dirs = {
    none: bundleWith(null),
    good: bundleWith(JSON.stringify({ google_client_id: CLIENT_ID }, null, 2)),
    bad: bundleWith('{"google_client_id": "not-a-client-id"}'),
  };
  const sites = {};
  for (const [k, dir] of Object.entries(dirs)) sites[k] = await startStaticServer(dir);
  const fake = await startFakeGoogle();
  fake.setScenario(scenario());
  const browser = await launchBrowser(fake);
  const { context, page } = browser;
  const app = new AppPage(page);

  // Every request to accounts.google.com is logged; /gsi/client gets the stand-in.
  const gis = [];
  context.on('request', (r) => { if (new URL(r.url()).hostname === 'accounts.google.com') gis.push(r.url()); });
  await context.route('https://accounts.google.com/**', (route) => {
    const url = new URL(route.request().url());
    if (url.pathname === '/gsi/client') {
      return route.fulfill({ status: 200, contentType: 'text/javascript; charset=utf-8', body: STAND_IN });
    }
    return route.fulfill({ status: 404, body: 'not found' });
  });
  const cspViolations = [];
  page.on('console', (m) => { if (/Content Security Policy|Refused to/.test(m.text())) cspViolations.push(m.text()); });

  const signInButton = () => app.button('Sign in with Google');
  const gisCalls = () => page.evaluate(() => window.__gisCalls || []);
  const standIn = (mode) => page.evaluate((m) => { window.__gisStandIn = m; }, mode);
  const listingText = () => app.textOfTestId('project-listing');
  const options = () => page.evaluate(() => [...document.querySelectorAll('#project-suggestions option')].map((o) => o.value));
  const alertWith = (text) => poll(async () => (await app.alertTexts()).find((a) => a.includes(text)), { timeout: 10_000, what: `an alert with "${text}"` });
  const shot = async (name) => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, `signin-${name}.png`), fullPage: false });
  };
  /** Opens a site and waits until the app has its answer about config.json. */
  const openSite = async (site) => {
    const configAnswered = page.waitForResponse((r) => r.url().endsWith('/config.json'), { timeout: 10_000 });
    await app.open(site.url);
    const response = await configAnswered;
    await page.waitForTimeout(300); // the answer reaches the UI
    return response.status();
  };
  const searches = (since) => fake.requestsSince(since).filter((r) => r.kind === 'crm.projects.search' && !r.isPreflight);

  const timings = [];
  const { test, run } = createRunner({
    onFailure: async (name) => shot(`FAILED-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`),
  });

  test('no config.json: no button, and nothing is requested from accounts.google.com', async () => {
    const status = await openSite(sites.none);
    assertEqual(status, 404, 'config.json status');
    await page.waitForTimeout(500);
    assertEqual(await signInButton().count(), 0, 'Sign in buttons');
    assertEqual(await page.getByTestId('signin-message').count(), 0, 'sign-in messages');
    assertEqual(gis, [], 'requests to accounts.google.com');
    assertEqual(await page.evaluate(() => typeof window.google), 'undefined', 'window.google');
  });

  test('malformed config.json: a clear message, no button, nothing from accounts.google.com', async () => {
    await openSite(sites.bad);
    const text = await alertWith('config.json');
    assert(text.includes('not an OAuth client ID') && text.includes('google_client_id'), text);
    assertEqual(await signInButton().count(), 0, 'Sign in buttons');
    assertEqual(gis, [], 'requests to accounts.google.com');
    await app.enterToken(GIS_TOKEN); // pasting still works
    await app.waitForIdentity(SAM.email);
  });

  test('configured: the GIS script loads under the CSP and the token client asks for the full scope', async () => {
    await openSite(sites.good);
    await signInButton().waitFor({ state: 'visible', timeout: 10_000 });
    assertEqual(gis.map((u) => new URL(u).pathname), ['/gsi/client'], 'requests to accounts.google.com');
    const [init] = await gisCalls();
    assertEqual(init, { fn: 'initTokenClient', client_id: CLIENT_ID, scope: SCOPES_ASKED, hasErrorCallback: true }, 'initTokenClient');
    assertEqual(cspViolations, [], 'CSP violations');
    await shot('button');
  });

  test('sign in: the token goes into the token state, and a check runs with it', async () => {
    const mark = fake.mark();
    await standIn({ outcome: 'grant', token: GIS_TOKEN });
    await signInButton().click();
    await app.waitForIdentity(SAM.email);
    assertEqual(await app.tokenInput().inputValue(), GIS_TOKEN, 'the token field holds the signed-in token');
    const first = (await gisCalls()).filter((c) => c.fn === 'requestAccessToken');
    assertEqual(first.map((c) => c.login_hint), [null], 'no login_hint before an account is known');
    await app.enterProject(CHECKED);
    await app.clickAndSettle('Check');
    assertEqual((await app.verdicts()).compute, 'Ready', 'compute verdict');
    const sent = fake.requestsSince(mark).filter((r) => r.hasAuthorization && !r.isPreflight);
    assert(sent.length > 0 && sent.every((r) => r.sub === SAM.sub), `every Bearer request as Sam: ${sent.map((r) => r.sub)}`);
    assert(sent.some((r) => r.kind === 'crm.testIamPermissions' && r.target === CHECKED), 'testIamPermissions on the picked project');
    const dump = JSON.stringify(await app.storageDump());
    assert(!dump.includes(GIS_TOKEN), 'the token is stored nowhere');
    assertEqual(fake.violations(), [], 'fake Google violations');
  });

  test('signing in again passes login_hint with the same account', async () => {
    await signInButton().click();
    await poll(async () => (await gisCalls()).filter((c) => c.fn === 'requestAccessToken').length === 2, { what: 'a second requestAccessToken' });
    const calls = (await gisCalls()).filter((c) => c.fn === 'requestAccessToken');
    assertEqual(calls[1].login_hint, SAM.email, 'login_hint');
    assertEqual(calls[1].scope, SCOPES_ASKED, 'scope asked again');
    await app.waitForIdentity(SAM.email);
  });

  test('scope shortfall: without cloud-platform the token is refused with a clear message', async () => {
    await app.button('Forget token').click();
    const mark = fake.mark();
    await standIn({ outcome: 'grant', token: GIS_TOKEN, scope: 'email openid https://www.googleapis.com/auth/userinfo.email' });
    await signInButton().click();
    const text = await alertWith('without access to Google Cloud');
    assert(text.includes('https://www.googleapis.com/auth/cloud-platform'), text);
    await page.waitForTimeout(300);
    assertEqual(await app.tokenInput().inputValue(), '', 'token field');
    assertEqual(fake.requestsSince(mark).length, 0, 'requests to Google after a refused sign-in');
    await shot('shortfall');
  });

  test('popup blocked, popup closed and access denied: each says what happened, no token', async () => {
    for (const [outcome, words] of [
      ['popup_failed_to_open', 'allow pop-ups'],
      ['popup_closed', 'window was closed'],
      ['access_denied', 'cancelled or access was denied'],
    ]) {
      await standIn({ outcome, token: GIS_TOKEN });
      await signInButton().click();
      await alertWith(words);
      assertEqual(await app.tokenInput().inputValue(), '', `token field after ${outcome}`);
    }
    await standIn({ outcome: 'popup_failed_to_open' });
    await signInButton().click();
    await alertWith('blocked');
    await shot('popup-blocked');
  });

  test(`picker: ${PICKER_COUNT} projects over ${Math.ceil(PICKER_COUNT / SEARCH_PAGE)} pages, active only, filtered as you type`, async () => {
    const mark = fake.mark();
    await standIn({ outcome: 'grant', token: GIS_TOKEN });
    await signInButton().click();
    await app.waitForIdentity(SAM.email);
    await poll(async () => (await listingText())?.includes(`${PICKER_COUNT.toLocaleString('en-US')} projects visible`), { timeout: 20_000, what: 'the project listing' });
    const pages = searches(mark);
    assertEqual(pages.length, Math.ceil(PICKER_COUNT / SEARCH_PAGE), 'projects.search requests');
    assert(pages.every((r) => r.status === 200 && r.query.includes('query=state%3AACTIVE')), 'every page asks for active projects');
    assertEqual(new Set(pages.map((r) => r.pageToken)).size, pages.length, 'distinct page tokens');
    assertEqual(pages[0].pageToken, null, 'first page has no token');
    const field = app.projectInput();
    assertEqual(await field.getAttribute('list'), 'project-suggestions', 'the "Project ID" field points at the suggestions');

    // Typing a filter: time from the input event to the suggestions holding only matches.
    const measure = (query, expected) => page.evaluate(async ({ query, expected }) => {
      const input = document.getElementById('project');
      const list = document.getElementById('project-suggestions');
      const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
      const done = () => {
        // An option matches on its ID (value) or its display name (label).
        const texts = [...list.options].map((o) => `${o.value} ${o.label}`.toLowerCase());
        return texts.length === expected && texts.every((t) => t.includes(query));
      };
      const t0 = performance.now();
      setValue.call(input, query);
      input.dispatchEvent(new InputEvent('input', { bubbles: true, inputType: 'insertText', data: query }));
      await new Promise((resolve, reject) => {
        const end = t0 + 5000;
        const tick = () => {
          if (done()) return resolve();
          if (performance.now() > end) return reject(new Error(`suggestions for "${query}": ${[...list.options].length}`));
          requestAnimationFrame(tick);
        };
        tick();
      });
      return performance.now() - t0;
    }, { query, expected });
    for (const [query, expected] of [['picker-0123', 10], ['picker-02', 50], ['team 24', 50], ['picker-0249', 10], ['picker-02499', 1], ['gone', 0]]) {
      timings.push({ query, ms: await measure(query, expected) });
    }
    const text = await listingText();
    assert(text.includes('0 match "gone"'), `DELETE_REQUESTED projects are not offered: ${text}`);
    await measure('picker-0123', 10);
    const values = await options();
    assertEqual(values, Array.from({ length: 10 }, (_, i) => `picker-0123${i}`), 'suggestions for picker-0123');
    await shot('picker');
  });

  test('recent projects: remembered per account after a check, offered after a reload, never the token', async () => {
    await app.reload();
    await standIn({ outcome: 'grant', token: GIS_TOKEN });
    await poll(async () => (await signInButton().count()) === 1, { what: 'the button' });
    await standIn({ outcome: 'grant', token: GIS_TOKEN });
    await signInButton().click();
    await app.waitForIdentity(SAM.email);
    const recent = await poll(() => app.textOfTestId('recent-projects'), { what: 'recent projects' });
    assert(recent.includes(CHECKED), recent);
    const stored = (await app.storageDump()).localStorage;
    assertEqual(JSON.parse(stored[`gcp-preflight/recent-projects/v1/${SAM.sub}`]), [CHECKED], 'stored recent list');
    assert(!JSON.stringify(stored).includes(GIS_TOKEN), 'no token in localStorage');
    const firstOptions = await options();
    assertEqual(firstOptions[0], CHECKED, 'the recent project is suggested first');
    await page.getByTestId('recent-projects').getByRole('button', { name: CHECKED }).click();
    assertEqual(await app.projectInput().inputValue(), CHECKED, 'clicking a recent project fills the field');
    await app.projectInput().fill('');
    await shot('recent');
  });

  test('a listing error falls back to typing, with a one-line reason', async () => {
    await app.button('Forget token').click();
    fake.injectFault({ type: 'html503', kind: 'crm.projects.search', times: Infinity });
    try {
      await standIn({ outcome: 'grant', token: GIS_TOKEN });
      await signInButton().click();
      await app.waitForIdentity(SAM.email);
      const text = await poll(async () => { const t = await listingText(); return t?.startsWith('Could not list') && t; }, { timeout: 20_000, what: 'the listing error' });
      assert(!text.includes('\n') && text.length < 300 && text.includes('type the project ID'), text);
      await app.enterProject(CHECKED);
      await app.clickAndSettle('Check');
      assertEqual((await app.verdicts()).compute, 'Ready', 'compute verdict after typing the ID');
      await shot('listing-error');
    } finally {
      fake.clearFaults();
    }
  });

  let failed = 1;
  try {
    failed = await run();
    if (timings.length) {
      const ms = timings.map((t) => t.ms).sort((a, b) => a - b);
      console.log(`# picker over ${PICKER_COUNT} projects, typing a filter -> filtered suggestions shown (ms): ${timings.map((t) => `"${t.query}" ${t.ms.toFixed(1)}`).join(', ')}; median ${ms[Math.floor(ms.length / 2)].toFixed(1)}, max ${ms[ms.length - 1].toFixed(1)}`);
    }
  } finally {
    await browser.close();
    await fake.stop();
    for (const site of Object.values(sites)) await site.stop();
    for (const dir of Object.values(dirs)) fs.rmSync(dir, { recursive: true, force: true });
  }
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
