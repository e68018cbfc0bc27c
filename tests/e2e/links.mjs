// Share links (issue 10 items 6-8): a question link and a result link, each opened in a fresh
// browser profile; links carrying a token, tampered, cut or from a future version; the Markdown
// report. Real release bundle, real fetch, the fake Google at the network level.
//
//   DIST_DIR=$PWD/dist node tests/e2e/links.mjs
//
// Screenshots of the share fields and of the shared-result banner go to $SHOT_DIR (default
// /tmp/gcp-preflight-links). Prints `ok - name` / `not ok - name`; exits 1 on failure.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { withEnvironment, launchBrowser, createRunner, assert, assertEqual, poll, distDir } from './harness.mjs';
import { AppPage } from './app-page.mjs';
import { world, TOKENS, ACCOUNTS } from './world.mjs';

/** Waits until the fake Google has had no request for 800 ms (at most 15 s). */
async function untilQuiet(fake) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const mark = fake.mark();
    await new Promise((r) => setTimeout(r, 800));
    if (fake.requestsSince(mark).length === 0 || Date.now() > deadline) return;
  }
}

const { alice } = ACCOUNTS;
const SEED = { compute: 'Not ready', storage: 'Ready', managedJobs: 'Not ready' };
const SHOT_DIR = process.env.SHOT_DIR || '/tmp/gcp-preflight-links';
const TIMEOUT = 30_000;
const norm = (s) => (s || '').replace(/\s+/g, ' ').trim();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** A Google-shaped access token that is not any account's. */
const FOREIGN_TOKEN = 'ya29.FAKE-foreign';

/** The JSON payload of a share link, decoded here independently of the app. */
function payloadOf(link) {
  const hash = new URL(link).hash.slice(1);
  const [key, data] = hash.split('=');
  const bytes = Buffer.from(data, 'base64url');
  const body = bytes.subarray(1);
  const sealed = bytes[0] === 1 ? zlib.inflateRawSync(body) : body;
  const json = sealed.subarray(4);
  assertEqual(sealed.readUInt32BE(0), check(json), 'the payload check');
  return { key, deflated: bytes[0] === 1, json: JSON.parse(json.toString('utf8')) };
}

/** The payload check: FNV-1a 64 of the JSON, low 32 bits (src/core/share.rs). */
function check(json) {
  let h = 0xcbf29ce484222325n;
  for (const b of json) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return Number(h & 0xffffffffn);
}

/** A raw (uncompressed), correctly sealed link to `site` with this payload. */
function rawLink(site, key, payload) {
  const json = Buffer.from(JSON.stringify(payload));
  const head = Buffer.alloc(5);
  head.writeUInt32BE(check(json), 1);
  return `${site}#${key}=${Buffer.concat([head, json]).toString('base64url')}`;
}

async function shot(page, name) {
  fs.mkdirSync(SHOT_DIR, { recursive: true });
  const file = path.join(SHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

async function main() {
  const failed = await withEnvironment(distDir(), async ({ site, fake, browser }) => {
    fake.setScenario(world());
    const app = new AppPage(browser.page);
    const pageErrors = [];
    browser.page.on('pageerror', (e) => pageErrors.push(String(e?.message || e)));
    const t = createRunner({
      onFailure: async (name) => { await shot(browser.page, `failed-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`); },
    });

    /** Opens `url` in a brand-new browser profile, runs `fn(app, page, errors)`, closes it. */
    async function inFreshBrowser(url, fn) {
      const fresh = await launchBrowser(fake);
      const errors = [];
      fresh.page.on('pageerror', (e) => errors.push(String(e?.message || e)));
      try {
        const other = new AppPage(fresh.page);
        await other.open(url);
        return await fn(other, fresh.page, errors);
      } finally {
        await fresh.close();
      }
    }

    async function linkFrom(page, label) {
      const field = page.getByLabel(label, { exact: true });
      await field.waitFor({ state: 'visible', timeout: TIMEOUT });
      return field.inputValue();
    }

    let questionLink;
    t.test('Copy link puts the question (never the token) in a "Share link" field', async () => {
      await app.open(site.url);
      await app.enterToken(TOKENS.alice);
      await app.waitForIdentity(alice.email);
      await app.enterProject('demo-seed-1');
      await browser.page.getByLabel('Bucket', { exact: true }).fill('demo-seed-1-skypilot');
      await browser.page.getByLabel('Service account', { exact: true }).fill('skypilot-v1@demo-seed-1.iam.gserviceaccount.com');
      await browser.page.getByLabel('Custom permissions', { exact: true }).fill('bigquery.datasets.create\npubsub.topics.publish');
      await browser.page.getByLabel(/^SkyPilot docs/).check();
      await app.button('Copy link').click();
      questionLink = await linkFrom(browser.page, 'Share link');
      assert(questionLink.startsWith(`${site.url}#q1=`), `a q1 link: ${questionLink}`);
      assert(!questionLink.includes(TOKENS.alice), 'the token is not in the link');
      const { json } = payloadOf(questionLink);
      assert(!JSON.stringify(json).includes(TOKENS.alice), 'the token is not in the payload');
      assertEqual(json.p, 'demo-seed-1', 'project in the payload');
      assertEqual(json.c, ['bigquery.datasets.create', 'pubsub.topics.publish'], 'custom list in the payload');
      await browser.page.getByLabel('Share link', { exact: true }).scrollIntoViewIfNeeded();
      await shot(browser.page, 'share-link');
      // Changing the question drops the link made for the old one.
      await app.enterProject('demo-full-2');
      await poll(async () => (await browser.page.getByLabel('Share link', { exact: true }).count()) === 0,
        { timeout: TIMEOUT, what: 'the stale Share link removed' });
      return `${questionLink.length} characters`;
    });

    t.test('a question link fills the form in a fresh browser and sends nothing until a token is entered', async () => {
      // The last test's page (with a token) warms up the project it typed last (ui::warmup):
      // let that finish, so only this fresh browser's requests are counted.
      await untilQuiet(fake);
      const mark = fake.mark();
      return inFreshBrowser(questionLink, async (other, page, errors) => {
        await poll(async () => (await page.getByLabel('Project ID', { exact: true }).inputValue()) === 'demo-seed-1',
          { timeout: TIMEOUT, what: 'the project filled in' });
        assertEqual(await page.getByLabel('Bucket', { exact: true }).inputValue(), 'demo-seed-1-skypilot', 'bucket');
        assertEqual(await page.getByLabel('Service account', { exact: true }).inputValue(), 'skypilot-v1@demo-seed-1.iam.gserviceaccount.com', 'service account');
        assertEqual(await page.getByLabel('Custom permissions', { exact: true }).inputValue(), 'bigquery.datasets.create\npubsub.topics.publish', 'custom list');
        assert(await page.getByLabel(/^SkyPilot docs/).isChecked(), 'the docs mode is ticked');
        assertEqual(await page.getByLabel('Access token', { exact: true }).inputValue(), '', 'the token field is empty');
        assert(norm(await other.textOfTestId('opened-question')).includes('Nothing has been sent'), 'says nothing was sent');
        assertEqual(new URL(page.url()).hash, '', 'the fragment is removed from the address bar');
        await sleep(1500);
        assertEqual(fake.requestsSince(mark).length, 0, 'requests to Google before a token');
        await other.enterToken(TOKENS.alice);
        await other.waitForIdentity(alice.email);
        await other.clickAndSettle('Check');
        assertEqual((await other.verdicts()).compute, 'Not ready', 'the compute verdict after Check');
        assert(fake.requestsSince(mark).length > 0, 'requests once the token is there');
        assertEqual(errors, [], 'page errors');
        return `${fake.requestsSince(mark).length} requests, all after the token`;
      });
    });

    let resultLink;
    let resultLinkNoEmail;
    t.test('Share result puts the findings in a "Result link"; "Include account email" decides the email', async () => {
      await app.open(site.url);
      await app.enterToken(TOKENS.alice);
      await app.waitForIdentity(alice.email);
      await app.enterProject('demo-seed-1');
      await app.clickAndSettle('Check');
      assertEqual(await app.verdicts(), SEED, 'live verdicts');
      const box = browser.page.getByLabel('Include account email', { exact: true });
      assert(await box.isChecked(), '"Include account email" is on by default');
      await app.button('Share result').click();
      resultLink = await linkFrom(browser.page, 'Result link');
      assert(resultLink.startsWith(`${site.url}#r1=`), `an r1 link: ${resultLink.slice(0, 80)}`);
      assert(!resultLink.includes(TOKENS.alice), 'no token in the link');
      const withEmail = payloadOf(resultLink);
      assert(!JSON.stringify(withEmail.json).includes(TOKENS.alice), 'no token in the payload');
      assertEqual(withEmail.json.e, alice.email, 'the email with the box on');
      await browser.page.getByLabel('Result link', { exact: true }).scrollIntoViewIfNeeded();
      await shot(browser.page, 'result-link');
      await box.uncheck();
      await app.button('Share result').click();
      resultLinkNoEmail = await linkFrom(browser.page, 'Result link');
      const without = payloadOf(resultLinkNoEmail);
      assert(without.json.t === withEmail.json.t, 'the same result, shared twice');
      assertEqual(without.json.e, undefined, 'no email with the box off');
      assert(!JSON.stringify(without.json).includes(alice.email), 'the email appears nowhere');
      return `${resultLink.length} characters (${withEmail.deflated ? 'deflated' : 'raw'})`;
    });

    t.test('a result link opened with no token shows the banner, verdicts and fix commands, and sends nothing', async () => {
      const mark = fake.mark();
      return inFreshBrowser(resultLink, async (other, page, errors) => {
        await page.getByTestId('shared-banner').waitFor({ state: 'visible', timeout: TIMEOUT });
        const banner = norm(await other.textOfTestId('shared-banner'));
        for (const part of ['not re-verified', alice.email, 'demo-seed-1', 'UTC']) {
          assert(banner.includes(part), `the banner names "${part}": ${banner}`);
        }
        assertEqual(await other.verdicts(), SEED, 'the shared verdicts');
        const grant = `gcloud projects add-iam-policy-binding demo-seed-1 --member=user:${alice.email}`;
        await poll(async () => (await other.codes()).some((c) => c.startsWith(grant)), { timeout: TIMEOUT, what: 'the grant command' });
        const copyButtons = await page.locator('.advice button.copy').count();
        assert(copyButtons > 0, 'copy buttons beside the commands');
        await page.getByTestId('shared-banner').scrollIntoViewIfNeeded();
        await shot(page, 'shared-result-banner');
        // Re-check asks for a token, and still sends nothing.
        await other.button('Re-check').click();
        await poll(async () => (await other.alertTexts()).some((a) => a.includes('Paste an access token first')),
          { timeout: TIMEOUT, what: 'Re-check asking for a token' });
        assertEqual(await page.evaluate(() => document.activeElement?.id), 'token', 'the token field has the focus');
        await sleep(1000);
        assertEqual(fake.requestsSince(mark).length, 0, 'requests to Google');
        assertEqual(errors, [], 'page errors');
        return `banner: ${banner.slice(0, 90)}…`;
      });
    });

    t.test('a result link without the email says so and grants to a placeholder', async () => {
      const mark = fake.mark();
      return inFreshBrowser(resultLinkNoEmail, async (other, page) => {
        await page.getByTestId('shared-banner').waitFor({ state: 'visible', timeout: TIMEOUT });
        const banner = norm(await other.textOfTestId('shared-banner'));
        assert(banner.includes('email not shared') && !banner.includes(alice.email), banner);
        assertEqual(await other.verdicts(), SEED, 'the shared verdicts');
        assert(!(await page.content()).includes(alice.email), 'the email appears nowhere on the page');
        assertEqual(fake.requestsSince(mark).length, 0, 'requests to Google');
      });
    });

    t.test('links carrying a token are refused with a warning, and the fragment is cleared', async () => {
      const links = [
        `${site.url}#access_token=${FOREIGN_TOKEN}&token_type=Bearer`,
        rawLink(site.url, 'q1', { p: 'demo-seed-1', o: 0, c: [`${FOREIGN_TOKEN}.get`] }),
        rawLink(site.url, 'q1', { p: FOREIGN_TOKEN, o: 0 }),
        `${questionLink}&token=${FOREIGN_TOKEN}`,
      ];
      const mark = fake.mark();
      for (const link of links) {
        await app.open(site.url);
        await browser.page.goto(link);
        await app.waitReady();
        await poll(async () => (await app.alertTexts()).some((a) => a.includes('looks like an access token')),
          { timeout: TIMEOUT, what: `the token warning for ${link.slice(0, 60)}` });
        assertEqual(new URL(browser.page.url()).hash, '', 'the fragment is gone from the address bar');
        assert(!(await browser.page.content()).includes(FOREIGN_TOKEN), 'the token is not on the page');
        assertEqual(await browser.page.getByLabel('Project ID', { exact: true }).inputValue(), '', 'nothing filled in');
      }
      assertEqual(fake.requestsSince(mark).length, 0, 'requests to Google');
      return `${links.length} links refused`;
    });

    t.test('tampered, truncated, oversized and future-version links get a clear message, never a panic', async () => {
      const hash = new URL(resultLink).hash;
      const middle = Math.floor(hash.length / 2);
      const flip = (c) => (c === 'A' ? 'B' : 'A');
      const cases = [
        [`${site.url}${hash.slice(0, middle)}`, /damaged/],
        [`${site.url}${hash.slice(0, middle)}${flip(hash[middle])}${hash.slice(middle + 1)}`, /damaged/],
        [`${site.url}#r1=${'A'.repeat(70000)}`, /too large/],
        [`${site.url}#q2=AAAA`, /newer version of gcp-preflight/],
        [rawLink(site.url, 'r1', { q: { p: 'demo-seed-1', o: 0 } }), /damaged/],
      ];
      for (const [link, want] of cases) {
        await app.open(site.url);
        await browser.page.goto(link);
        await app.waitReady();
        await poll(async () => (await app.alertTexts()).some((a) => want.test(a)),
          { timeout: TIMEOUT, what: `${want} for ${link.slice(0, 70)}` });
        assertEqual(await app.verdicts(), { compute: null, storage: null, managedJobs: null }, 'no verdicts shown');
      }
      assertEqual(pageErrors, [], 'page errors (a panic aborts the wasm)');
      return `${cases.length} links`;
    });

    t.test('Download Markdown gives verdicts, missing permissions and the fix commands', async () => {
      await app.open(site.url);
      await app.enterToken(TOKENS.alice);
      await app.waitForIdentity(alice.email);
      await app.enterProject('demo-seed-1');
      await app.clickAndSettle('Check');
      await poll(async () => (await app.codes()).some((c) => c.startsWith('gcloud projects add-iam-policy-binding')),
        { timeout: TIMEOUT, what: 'the advice (role data loaded)' });
      const [download] = await Promise.all([
        browser.page.waitForEvent('download', { timeout: TIMEOUT }),
        app.button('Download Markdown').click(),
      ]);
      const md = fs.readFileSync(await download.path(), 'utf8');
      assertEqual(download.suggestedFilename(), 'gcp-preflight-demo-seed-1.md', 'file name');
      for (const part of ['| Compute | Not ready |', '## Compute — Not ready', '`compute.firewalls.create`', '### How to fix',
        `--member=user:${alice.email}`, '## APIs']) {
        assert(md.includes(part), `the Markdown has "${part}"`);
      }
      assert(!md.includes(TOKENS.alice), 'no token in the Markdown');
      return `${md.length} characters`;
    });

    t.test('a 1,000-permission custom list makes a compressed link that opens intact', async () => {
      const full = JSON.parse(fs.readFileSync(path.join(distDir(), 'roles', 'full.json'), 'utf8'));
      const names = full.permissions.filter((p) => /^[a-z][a-zA-Z0-9]*\.[a-zA-Z0-9]+\.[a-zA-Z0-9]+$/.test(p)).slice(0, 1000);
      assertEqual(names.length, 1000, 'permissions taken from the role data');
      await app.open(site.url);
      await app.enterProject('demo-seed-1');
      await browser.page.getByLabel('Custom permissions', { exact: true }).fill(names.join('\n'));
      await app.button('Copy link').click();
      const link = await linkFrom(browser.page, 'Share link');
      const size = norm(await app.textOfTestId('share-link-size'));
      const { deflated, json } = payloadOf(link);
      assert(deflated, 'the long link is deflated');
      assertEqual(json.c.length, 1000, 'permissions in the payload');
      await inFreshBrowser(link, async (_other, page) => {
        await poll(async () => (await page.getByLabel('Custom permissions', { exact: true }).inputValue()).split('\n').length === 1000,
          { timeout: TIMEOUT, what: '1,000 permissions filled in' });
      });
      return `link ${size}`;
    });

    return t.run();
  });
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
