// Identity that survives real Google (issue #10 item 3): tokeninfo answering without CORS headers
// (BROWSER-FACTS.md flag 2: nothing confirms it sends them), so the page sees a network error and
// asks OpenID userinfo (Bearer) for the account; the UI says what is then unknown; results stay
// cached per account; no request ever carries credentials (cookies).
//
//   DIST_DIR=$PWD/dist node tests/e2e/identity.mjs
//
// Prints `ok - name` / `not ok - name` and `N passed, N failed`; exits 1 on a failure.

import fs from 'node:fs';
import path from 'node:path';
import { withEnvironment, createRunner, assert, assertEqual, poll, distDir, HERE } from './harness.mjs';
import { AppPage } from './app-page.mjs';
import { world, TOKENS, ACCOUNTS } from './world.mjs';

const { alice, bob } = ACCOUNTS;
const SEED = { compute: 'Not ready', storage: 'Ready', managedJobs: 'Not ready' };
const ALL_READY = { compute: 'Ready', storage: 'Ready', managedJobs: 'Ready' };
const USERINFO_HOST = 'openidconnect.googleapis.com';
const PREFIX = 'gcp-preflight/v1/';

const real = (reqs) => reqs.filter((r) => !r.isPreflight);
const bearerCalls = (reqs) => real(reqs).filter((r) => r.host !== 'oauth2.googleapis.com' && r.host !== USERINFO_HOST);

async function main() {
  const failed = await withEnvironment(distDir(), async ({ site, fake, browser }) => {
    const scenario = world();
    scenario.tokeninfoCors = false;
    fake.setScenario(scenario);
    const { page, context } = browser;
    const app = new AppPage(page);
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(String(e?.message || e)));
    // Cookies for every Google host: a request sent with credentials would carry them.
    await context.addCookies(['oauth2', 'openidconnect', 'cloudresourcemanager', 'serviceusage', 'storage', 'iam', 'cloudbilling', 'compute']
      .map((h) => ({ name: 'SID', value: 'e2e-cookie', domain: `${h}.googleapis.com`, path: '/', secure: true, sameSite: 'None' })));
    const t = createRunner({
      onFailure: async (name) => {
        const dir = path.join(HERE, 'artifacts');
        fs.mkdirSync(dir, { recursive: true });
        await page.screenshot({ path: path.join(dir, `identity-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 80)}.png`), fullPage: true });
      },
    });

    /** Pastes `token`, waits for the account, and returns the requests the look-up sent. */
    async function enter(token, account) {
      const mark = fake.mark();
      await app.enterToken(token);
      await app.waitForIdentity(account.email);
      return fake.requestsSince(mark);
    }

    /** Checks demo-seed-1 and returns { verdicts, age, reqs }. */
    async function check(button = 'Check') {
      await app.enterProject('demo-seed-1');
      const mark = fake.mark();
      await app.clickAndSettle(button);
      return { verdicts: await app.verdicts(), age: await app.resultAge(), reqs: fake.requestsSince(mark) };
    }

    t.test('tokeninfo without CORS: the account comes from userinfo, and the page says what is unknown', async () => {
      await app.open(site.url);
      await page.evaluate(() => localStorage.clear());
      await app.reload();
      const reqs = await enter(TOKENS.alice, alice);
      const tokeninfo = real(reqs).filter((r) => r.host === 'oauth2.googleapis.com');
      const userinfo = real(reqs).filter((r) => r.host === USERINFO_HOST);
      assert(tokeninfo.length >= 1 && tokeninfo.every((r) => r.cors === false), `tokeninfo answered without CORS: ${JSON.stringify(tokeninfo.map((r) => r.cors))}`);
      assertEqual(userinfo.length, 1, 'userinfo requests');
      assertEqual([userinfo[0].method, userinfo[0].path, userinfo[0].query, userinfo[0].hasAuthorization, userinfo[0].status],
        ['GET', '/v1/userinfo', '', true, 200], 'userinfo: a Bearer GET, nothing in the URL');
      const line = await app.identity();
      assert(line.includes('expiry unknown') && line.includes('scopes unknown'), `identity line: ${line}`);
      const unknowns = await app.textOfTestId('identity-unknowns');
      assert(unknowns && /expiry, scopes/.test(unknowns) && /userinfo/.test(unknowns), `unknowns hint: ${unknowns}`);
      assertEqual(await app.alertTexts(), [], 'alerts (the token is not refused)');
    });

    t.test('a check runs with the userinfo identity and its result is cached under the account', async () => {
      const first = await check();
      assertEqual(first.verdicts, SEED, 'verdicts');
      assert(bearerCalls(first.reqs).length > 0, 'the check was sent');
      assert(!/^Cached/.test(first.age || ''), `fresh: ${first.age}`);
      const again = await check();
      assertEqual(again.verdicts, SEED, 'verdicts again');
      assert(/^Cached result/.test(again.age || ''), `served from the cache: ${again.age}`);
      assertEqual(bearerCalls(again.reqs).length, 0, 'requests for the cached answer');
      // Results under alice's Google ID; besides them only her recent projects (the picker's).
      const keys = await page.evaluate(() => Object.keys(localStorage));
      const results = keys.filter((k) => k.startsWith(PREFIX));
      assert(results.length > 0 && results.every((k) => k.startsWith(`${PREFIX}${alice.sub}/`)), `cache keys: ${JSON.stringify(keys)}`);
      assertEqual(keys.filter((k) => !k.startsWith(PREFIX)), [`gcp-preflight/recent-projects/v1/${alice.sub}`], 'the other keys');
    });

    t.test("another account (bob) on the same project: its own fresh check, never alice's result", async () => {
      await enter(TOKENS.bob, bob);
      const r = await check();
      assertEqual(r.verdicts, ALL_READY, "bob's verdicts");
      assert(bearerCalls(r.reqs).length > 0 && !/^Cached/.test(r.age || ''), `bob was checked fresh: ${r.age}`);
      const again = await check();
      assertEqual(again.verdicts, ALL_READY, "bob's cached verdicts");
      assert(/^Cached result/.test(again.age || ''), `bob cached: ${again.age}`);
      const subs = await page.evaluate((prefix) => [...new Set(Object.keys(localStorage)
        .filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length).split('/')[0]))].sort(), PREFIX);
      assertEqual(subs, [alice.sub, bob.sub].sort(), 'one cache namespace per account');
    });

    t.test("back to alice: her cached result, not bob's", async () => {
      await enter(TOKENS.alice, alice);
      const r = await check();
      assertEqual(r.verdicts, SEED, "alice's verdicts");
      assert(/^Cached result/.test(r.age || ''), `alice cached: ${r.age}`);
      assertEqual(bearerCalls(r.reqs).length, 0, 'requests');
    });

    t.test('tokeninfo with CORS again: tokeninfo answers, userinfo is not asked, expiry and scopes shown', async () => {
      fake.patchScenario((s) => { s.tokeninfoCors = true; });
      await app.reload();
      const reqs = await enter(TOKENS.alice, alice);
      assertEqual(real(reqs).filter((r) => r.host === USERINFO_HOST).length, 0, 'userinfo requests');
      const line = await app.identity();
      assert(/token expires in \d+ min/.test(line) && line.includes('scopes: openid'), `identity line: ${line}`);
      assertEqual(await app.textOfTestId('identity-unknowns'), null, 'no unknowns hint');
      // Same account, same cache: the result userinfo's identity stored answers now.
      const r = await check();
      assert(/^Cached result/.test(r.age || ''), `cached across the two identity sources: ${r.age}`);
    });

    t.test("the look-ups' faults are retried like every request: a proxy's 502 page on tokeninfo, a drop and a 503 page on userinfo", async () => {
      // tokeninfo with CORS: its proxy 502 (HTML) is retried, then tokeninfo answers.
      fake.injectFault({ type: 'html502', host: 'oauth2.googleapis.com' });
      let reqs = await enter(TOKENS.bob, bob);
      assertEqual(real(reqs).filter((r) => r.host === 'oauth2.googleapis.com').map((r) => r.status), [502, 200], 'tokeninfo answers');
      assertEqual(await app.textOfTestId('identity-unknowns'), null, 'tokeninfo identity, nothing unknown');
      // Without CORS: userinfo dropped, then a proxy's 503 page, then its answer.
      fake.patchScenario((s) => { s.tokeninfoCors = false; });
      fake.injectFault({ type: 'drop', host: USERINFO_HOST });
      fake.injectFault({ type: 'html503', host: USERINFO_HOST });
      reqs = await enter(TOKENS.alice, alice);
      assertEqual(real(reqs).filter((r) => r.host === USERINFO_HOST).map((r) => r.status), [null, 503, 200], 'userinfo answers');
      assert(await app.textOfTestId('identity-unknowns'), 'the unknowns are said');
      fake.clearFaults();
    });

    t.test('no request to Google carried a cookie or the token in a URL; no violation, no page error', async () => {
      const all = fake.requests({ all: true });
      assert(all.some((r) => r.host === USERINFO_HOST), 'userinfo was used');
      assertEqual(all.filter((r) => r.hasCookie).map((r) => `${r.method} ${r.host}${r.path}`), [], 'requests with cookies');
      assertEqual(fake.violations(), [], 'fake Google violations');
      assertEqual(pageErrors, [], 'page errors');
    });

    return t.run();
  });
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
