// Accessibility and looks (issue #10 item 9): axe-core in both colour schemes on the empty form,
// a Not ready result with its fix advice, and the demo; keyboard-only use from the first Tab to
// the result; screenshots at laptop and phone size in both schemes (tests/e2e/artifacts/a11y-*.png),
// which are for a person to look at.
//
//   DIST_DIR=$PWD/dist node tests/e2e/a11y.mjs
//
// Prints `ok - name` / `not ok - name` and `N passed, N failed`; exits 1 on failure.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { withEnvironment, createRunner, assert, assertEqual, poll, distDir, HERE } from './harness.mjs';
import { AppPage } from './app-page.mjs';
import { world, TOKENS, ACCOUNTS } from './world.mjs';

const { alice } = ACCOUNTS;
const SEED = { compute: 'Not ready', storage: 'Ready', managedJobs: 'Not ready' };
const SCHEMES = ['light', 'dark'];
const LAPTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
const ARTIFACTS = path.join(HERE, 'artifacts');
const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe on the page as it is (every <details> opened first, so that what they hide is checked
 * too) and returns its violations as short lines. Injected with `evaluate`, not a <script> tag,
 * so that the page's CSP is the one users get.
 */
async function axeViolations(page) {
  await page.evaluate(() => document.querySelectorAll('details').forEach((d) => { d.open = true; }));
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => (await window.axe.run(document)).violations);
  return violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
}

/** Saves what the screen shows (or the whole page) as tests/e2e/artifacts/a11y-NAME.png. */
async function screenshot(page, name, { fullPage = false } = {}) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `a11y-${name}.png`);
  await page.screenshot({ path: file, fullPage });
  return path.relative(process.cwd(), file);
}

async function main() {
  const failed = await withEnvironment(distDir(), async ({ site, fake, browser }) => {
    fake.setScenario(world());
    const page = browser.page;
    const app = new AppPage(page);
    const t = createRunner({
      onFailure: async (name) => { await screenshot(page, `failed-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`); },
    });

    /** A fresh page in `scheme` at `viewport`, nothing cached. */
    async function fresh(scheme, viewport = LAPTOP) {
      await page.setViewportSize(viewport);
      await page.emulateMedia({ colorScheme: scheme });
      await app.open(site.url);
      await page.evaluate(() => localStorage.clear());
      await app.reload();
      assertEqual(await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches), scheme === 'dark', 'emulated scheme');
    }

    /** Alice's Not ready result on the seed project, with the Compute card's advice loaded. */
    async function notReadyWithAdvice() {
      await app.enterToken(TOKENS.alice);
      await app.waitForIdentity(alice.email);
      await app.enterProject('demo-seed-1');
      await app.clickAndSettle('Check');
      assertEqual(await app.verdicts(), SEED, 'verdicts');
      await resultsInView();
      await poll(async () => (await app.card('compute')).roles.length > 0, { what: 'the fix advice in the Compute card' });
    }

    /**
     * The results' heading on screen (at the top, or as high as the page can scroll), focused,
     * and the first card starting in the upper half of the screen.
     */
    async function resultsInView() {
      const where = () => page.evaluate(() => {
        const heading = document.querySelector('.results h2');
        const card = document.querySelector('.verdict');
        return {
          heading: Math.round(heading.getBoundingClientRect().top),
          card: card ? Math.round(card.getBoundingClientRect().top) : null,
          height: innerHeight,
          focused: document.activeElement === heading,
        };
      });
      await poll(async () => {
        const w = await where();
        return w.focused && w.heading >= 0 && w.card !== null && w.card < w.height / 2;
      }, { what: 'the results in view and focused', timeout: 5_000 }).catch(async (err) => {
        throw new Error(`${err.message}: ${JSON.stringify(await where())}`);
      });
    }

    for (const scheme of SCHEMES) {
      t.test(`[${scheme}] the empty form: no axe violations`, async () => {
        await fresh(scheme);
        const found = await axeViolations(page);
        assertEqual(found, [], 'axe violations');
        return screenshot(page, `${scheme}-laptop-form`, { fullPage: true });
      });

      t.test(`[${scheme}] a Not ready result with its fix advice: no axe violations`, async () => {
        await fresh(scheme);
        await notReadyWithAdvice();
        const shot = await screenshot(page, `${scheme}-laptop-not-ready`);
        const found = await axeViolations(page);
        assertEqual(found, [], 'axe violations');
        return shot;
      });

      t.test(`[${scheme}] the demo: no axe violations`, async () => {
        await fresh(scheme);
        await app.button('Try the demo').click({ timeout: 10_000 });
        await app.clickAndSettle('Check');
        assertEqual(await app.verdicts(), SEED, 'demo verdicts');
        const found = await axeViolations(page);
        assertEqual(found, [], 'axe violations');
        return screenshot(page, `${scheme}-laptop-demo`);
      });

      t.test(`[${scheme}] phone (390x844): a Not ready result, no axe violations, nothing wider than the screen`, async () => {
        await fresh(scheme, PHONE);
        await notReadyWithAdvice();
        const shot = await screenshot(page, `${scheme}-phone-not-ready`);
        const found = await axeViolations(page);
        assertEqual(found, [], 'axe violations');
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        assert(overflow <= 0, `the page scrolls sideways by ${overflow} px on a phone`);
        await screenshot(page, `${scheme}-phone-not-ready-full`, { fullPage: true });
        return shot;
      });
    }

    t.test('keyboard only: Tab to the token, the project and Check, Enter; every stop shows a focus ring', async () => {
      await fresh('light');
      await page.evaluate(() => document.activeElement?.blur());
      const stops = [];
      /** Tabs until the focused element's accessible label matches `name`, recording each stop. */
      const tabTo = async (name, limit = 40) => {
        for (let i = 0; i < limit; i += 1) {
          await page.keyboard.press('Tab');
          const stop = await page.evaluate(() => {
            const el = document.activeElement;
            const label = el?.labels?.[0]?.innerText || el?.getAttribute('aria-label') || el?.innerText || '';
            const style = getComputedStyle(el);
            return {
              tag: el?.tagName.toLowerCase(),
              label: label.replace(/\s+/g, ' ').trim(),
              ring: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 1,
            };
          });
          stops.push(stop);
          if (stop.label === name) return;
        }
        throw new Error(`no "${name}" within ${limit} Tabs: ${JSON.stringify(stops.map((s) => s.label))}`);
      };
      await tabTo('Access token');
      await page.keyboard.type(TOKENS.alice);
      await tabTo('Project ID');
      await page.keyboard.type('demo-seed-1');
      await app.waitForIdentity(alice.email);
      await tabTo('Check');
      await page.keyboard.press('Enter');
      await poll(async () => JSON.stringify(await app.verdicts()) === JSON.stringify(SEED), { timeout: 20_000, what: 'the verdicts after Enter on Check' });
      await resultsInView();
      // From the results, Tab goes on to their buttons.
      await page.keyboard.press('Tab');
      assertEqual(await page.evaluate(() => document.activeElement?.innerText), 'Re-check', 'the Tab stop after the results heading');
      const noRing = stops.filter((s) => !s.ring);
      assertEqual(noRing, [], 'focus stops without a visible focus ring');
      const notButtons = stops.filter((s) => ['div', 'span', 'p', 'li'].includes(s.tag));
      assertEqual(notButtons, [], 'focus stops on elements that are not controls');
      return `${stops.length} Tab stops`;
    });

    t.test('a progress line while requests are out ("N of M requests answered", N below M), gone with the result', async () => {
      await fresh('light');
      await app.enterToken(TOKENS.alice);
      await app.waitForIdentity(alice.email);
      await app.enterProject('demo-seed-1');
      const seen = [];
      fake.setLatency(400);
      try {
        await app.button('Check').click({ timeout: 10_000 });
        await poll(async () => {
          const { text, done } = await page.evaluate(() => ({
            text: document.querySelector('[data-testid="progress"]')?.innerText.replace(/\s+/g, ' ').trim(),
            done: document.querySelector('[data-testid="verdict-compute"]') !== null,
          }));
          if (text && seen[seen.length - 1] !== text) seen.push(text);
          return done;
        }, { timeout: 20_000, interval: 20, what: 'the result' });
      } finally {
        fake.setLatency(0);
      }
      const counts = seen.map((text) => {
        const m = /^(\d+) of (\d+) requests answered$/.exec(text);
        assert(m, `progress line "${text}"`);
        return [Number(m[1]), Number(m[2])];
      });
      assert(counts.some(([n, m]) => n < m), `never fewer answered than sent: ${JSON.stringify(seen)}`);
      assert(counts.every(([n, m]) => n <= m && m <= 7), `counts out of range: ${JSON.stringify(seen)}`);
      assertEqual(await app.textOfTestId('progress'), null, 'the progress line after the result');
      return seen.join(' → ');
    });

    return t.run();
  });
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
