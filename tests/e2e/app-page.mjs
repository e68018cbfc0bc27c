// The page object: drives gcp-preflight the way a person does, through labels and roles only.
// This file IS the UI contract the tests rely on:
//   - inputs labelled "Access token" (type=password) and "Project ID";
//   - buttons named "Check", "Re-check", "Forget token", "Try the demo";
//   - a role="status" region holding the headings "Compute", "Storage", "Managed jobs", with
//     data-testid="verdict-compute" / "verdict-storage" / "verdict-managed-jobs" whose text is
//     exactly "Ready", "Not ready" or "Unknown", and missing permissions as <code> inside it;
//   - data-testid="result-age" ("Checked less than a minute ago for EMAIL on PROJECT", or with the
//     prefix "Cached result: checked ..."), data-testid="identity" (the account email);
//   - errors as role="alert";
//   - while a check runs, the "Check" button is disabled.

import { poll } from './harness.mjs';

export const VERDICTS = Object.freeze(['Ready', 'Not ready', 'Unknown']);
export const CAPABILITIES = Object.freeze([
  { key: 'compute', heading: 'Compute', testid: 'verdict-compute' },
  { key: 'storage', heading: 'Storage', testid: 'verdict-storage' },
  { key: 'managedJobs', heading: 'Managed jobs', testid: 'verdict-managed-jobs' },
]);
const TIMEOUT = 10_000;

// Installed in the page just before a click: notes when the click happened and when the page
// next settles (the "Check" button enabled again after the results region or an alert changed,
// with either three final verdicts or an alert on screen). Timing is taken in the page, so it does not include
// Playwright's round trips.
function installProbe(buttonName) {
  const VERDICT_IDS = ['verdict-compute', 'verdict-storage', 'verdict-managed-jobs'];
  const FINAL = ['Ready', 'Not ready', 'Unknown'];
  if (window.__e2eProbe) window.__e2eProbe.stop();
  const state = { tClick: null, tDone: null, mutations: 0, sawBusy: false };
  const nameOf = (b) => (b.getAttribute('aria-label') || b.textContent || '').replace(/\s+/g, ' ').trim();
  const checkButton = () => [...document.querySelectorAll('button')].find((b) => nameOf(b) === 'Check');
  const isDone = () => {
    const button = checkButton();
    if (!button || button.disabled || button.getAttribute('aria-disabled') === 'true') {
      state.sawBusy = true;
      return false;
    }
    if (state.mutations === 0) return false;
    const verdicts = VERDICT_IDS.map((id) => document.querySelector(`[data-testid="${id}"]`));
    const final = verdicts.every((v) => v && FINAL.includes(v.textContent.trim()));
    return final || !!document.querySelector('[role="alert"]');
  };
  const onClick = (event) => {
    const target = event.target.closest?.('button');
    if (target && nameOf(target) === buttonName && state.tClick === null) state.tClick = performance.now();
  };
  // Only changes to the results region or to an alert count: the rest of the page may re-render
  // on its own (a clock, the identity line) and must not be taken for the answer.
  const SCOPE = '[role="status"], [role="alert"]';
  const relevant = (record) => {
    const el = record.target.nodeType === 1 ? record.target : record.target.parentElement;
    if (el && el.closest(SCOPE)) return true;
    return [...record.addedNodes, ...record.removedNodes]
      .some((n) => n.nodeType === 1 && (n.matches(SCOPE) || n.querySelector(SCOPE)));
  };
  const observer = new MutationObserver((records) => {
    if (state.tClick === null || state.tDone !== null) return;
    state.mutations += records.filter(relevant).length;
    if (isDone()) state.tDone = performance.now();
  });
  window.addEventListener('click', onClick, true);
  observer.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  window.__e2eProbe = {
    state,
    stop() { observer.disconnect(); window.removeEventListener('click', onClick, true); },
  };
}

export class AppPage {
  constructor(page) {
    this.page = page;
  }

  tokenInput() { return this.page.getByLabel('Access token', { exact: true }); }
  projectInput() { return this.page.getByLabel('Project ID', { exact: true }); }
  button(name) { return this.page.getByRole('button', { name, exact: true }); }
  results() {
    return this.page.getByRole('status').filter({ has: this.page.getByRole('heading', { name: 'Compute', exact: true }) });
  }
  alerts() { return this.page.getByRole('alert'); }

  async open(url) {
    await this.page.goto(url);
    await this.waitReady();
  }

  async reload() {
    await this.page.reload();
    await this.waitReady();
  }

  async waitReady() {
    await this.tokenInput().waitFor({ state: 'visible', timeout: TIMEOUT });
    const type = await this.tokenInput().getAttribute('type');
    if (type !== 'password') throw new Error(`the "Access token" input must be type=password, is ${type}`);
  }

  /** Pastes a token and leaves the field, as a person moving on to the project does. */
  async enterToken(token) {
    await this.tokenInput().fill(token);
    await this.tokenInput().press('Tab');
  }

  async enterProject(project) {
    await this.projectInput().fill(project);
    await this.projectInput().press('Tab');
  }

  async textOfTestId(testid) {
    const loc = this.page.getByTestId(testid);
    if ((await loc.count()) === 0) return null;
    return (await loc.first().innerText()).replace(/\s+/g, ' ').trim();
  }

  identity() { return this.textOfTestId('identity'); }
  resultAge() { return this.textOfTestId('result-age'); }

  async waitForIdentity(email) {
    await poll(async () => (await this.identity())?.includes(email), { timeout: TIMEOUT, what: `identity showing ${email}` });
  }

  /** { compute, storage, managedJobs }: each "Ready" | "Not ready" | "Unknown" | null (absent). */
  async verdicts() {
    const out = {};
    for (const c of CAPABILITIES) out[c.key] = await this.textOfTestId(c.testid);
    return out;
  }

  async alertTexts() {
    return (await this.alerts().allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
  }

  /** Every <code> text inside the results region. */
  async codes() {
    const region = this.results();
    if ((await region.count()) === 0) return [];
    return (await region.first().locator('code').allInnerTexts()).map((t) => t.trim());
  }

  async headingsInResults() {
    const region = this.results();
    const found = [];
    for (const c of CAPABILITIES) {
      if ((await region.getByRole('heading', { name: c.heading, exact: true }).count()) > 0) found.push(c.heading);
    }
    return found;
  }

  /**
   * Clicks `buttonName` and waits until the page settles (see installProbe). Returns the
   * in-page times { clickToDoneMs, sawBusy }.
   */
  async clickAndSettle(buttonName = 'Check') {
    await this.page.evaluate(installProbe, buttonName);
    await this.button(buttonName).click({ timeout: TIMEOUT });
    try {
      await this.page.waitForFunction(() => window.__e2eProbe.state.tDone !== null, null, { timeout: TIMEOUT, polling: 20 });
    } catch (err) {
      const state = await this.page.evaluate(() => window.__e2eProbe.state);
      throw new Error(`the page did not settle within ${TIMEOUT} ms after "${buttonName}" (probe: ${JSON.stringify(state)})`);
    }
    const state = await this.page.evaluate(() => { window.__e2eProbe.stop(); return window.__e2eProbe.state; });
    return { clickToDoneMs: state.tDone - state.tClick, sawBusy: state.sawBusy };
  }

  /** Reads every place a token could have been stored by the page. */
  async storageDump() {
    return this.page.evaluate(() => {
      const dump = (s) => {
        const out = {};
        for (let i = 0; i < s.length; i += 1) out[s.key(i)] = s.getItem(s.key(i));
        return out;
      };
      return {
        localStorage: dump(window.localStorage),
        sessionStorage: dump(window.sessionStorage),
        cookie: document.cookie,
        href: window.location.href,
      };
    });
  }
}
