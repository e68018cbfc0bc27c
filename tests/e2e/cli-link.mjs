// `gcp-preflight check --link` opened in the browser: the link the terminal prints for a
// SkyPilot config and task (real binary) is opened in a fresh profile of the real release
// bundle, and the form shows the same question (project, mode, options, bucket, service account)
// with the token field empty and nothing sent to Google until a token is entered.
//
//   cargo build --locked --bin gcp-preflight && DIST_DIR=$PWD/dist node tests/e2e/cli-link.mjs
//   CLI_BIN=path/to/gcp-preflight

import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { HERE, withEnvironment, createRunner, assert, assertEqual, poll, distDir } from './harness.mjs';
import { AppPage } from './app-page.mjs';
import { world, TOKENS, ACCOUNTS } from './world.mjs';

const ROOT = path.resolve(HERE, '../..');
const BIN = process.env.CLI_BIN || path.join(ROOT, 'target/debug/gcp-preflight');
const FILES = path.join(ROOT, 'tests/fixtures/skypilot');
const TIMEOUT = 30_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** `gcp-preflight check … --link` with the token in the environment; returns stdout. */
function printLink(appUrl, args) {
  return execFileSync(BIN, ['check', ...args, '--link'], {
    env: { PATH: process.env.PATH, HOME: FILES, GCP_PREFLIGHT_APP_URL: appUrl, GCP_PREFLIGHT_TOKEN: TOKENS.alice },
    encoding: 'utf8',
  });
}

async function main() {
  assert(fs.existsSync(BIN), `${BIN} is missing: cargo build --locked --bin gcp-preflight`);
  const failed = await withEnvironment(distDir(), async ({ site, fake, browser }) => {
    fake.setScenario(world());
    const t = createRunner();
    const page = browser.page;
    const app = new AppPage(page);
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e?.message || e)));

    t.test('the link the terminal prints for config.yaml + pipeline.yaml fills the form and sends nothing', async () => {
      const out = printLink(site.url, ['-p', 'demo-seed-1', '--docs',
        '--sky-config', path.join(FILES, 'config.yaml'), path.join(FILES, 'pipeline.yaml')]);
      assert(!out.includes(TOKENS.alice), 'the token is not in the link');
      const link = out.trim();
      assert(link.startsWith(`${site.url}#q1=`), link);
      fake.resetLog();
      await app.open(link);
      const field = (label) => page.getByLabel(label, { exact: true });
      await poll(async () => (await field('Project ID').inputValue()) === 'demo-seed-1',
        { timeout: TIMEOUT, what: 'the project filled in' });
      assertEqual(await field('Bucket').inputValue(), 'team-ml-jobs', 'bucket (jobs.bucket)');
      assertEqual(await field('Service account').inputValue(), 'trainer@ml-prod-4821.iam.gserviceaccount.com',
        'service account (gcp.remote_identity)');
      assert(await page.getByLabel(/^SkyPilot docs/).isChecked(), '--docs: the docs mode');
      assert(await page.getByLabel(/^Custom VPC/).isChecked(), 'custom VPC (gcp.vpc_name)');
      assert(await page.getByLabel(/^Reservations/).isChecked(), 'reservations');
      assertEqual(await field('Access token').inputValue(), '', 'the token field is empty');
      await sleep(1000);
      // The page's requests: any to the hosts the app uses, or carrying the page's Origin.
      // Chromium's own background calls (no Origin, other *.googleapis.com hosts) are not the app's.
      const origin = new URL(site.url).origin;
      const sent = fake.requests({ all: true }).filter((q) => q.appHost || q.origin === origin);
      assertEqual(sent.map((q) => `${q.method} ${q.host}${q.path}`), [], 'requests to Google before a token');
      await app.enterToken(TOKENS.alice);
      await app.waitForIdentity(ACCOUNTS.alice.email);
      await app.clickAndSettle('Check');
      assert(Object.keys(await app.verdicts()).length > 0, 'verdicts after Check');
      assertEqual(errors, [], 'page errors');
      return `${link.length} characters`;
    });

    return t.run();
  });
  process.exit(failed ? 1 : 0);
}

main().catch((err) => { console.error(err); process.exit(1); });
