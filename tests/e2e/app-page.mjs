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
// The SkyPilot options (see OPTION_LABELS, FORM_DEFAULTS):
//   - radios labelled "sky check parity …" (default) and "SkyPilot docs …";
//   - checkboxes for each option, and "SkyPilot profiles …" (ticked by default; untick to test
//     only the custom list);
//   - inputs labelled "Bucket" and "Service account", a textarea labelled "Custom permissions",
//     with invalid entries listed under it (role="alert": <code>entry</code> then the reason) and
//     data-testid="custom-summary" ("3 to check, 1 duplicate(s) folded, 1 skipped:");
//   - a fourth verdict "Custom" (data-testid="verdict-custom") for the custom list; each verdict
//     sits in a card with its heading, missing permissions / APIs as <code>, notes as <li>;
//   - data-testid="apis": a visible list, one <li> per API whose first line is
//     "compute.googleapis.com: on|off|unknown"; for an API that is off, the results region shows
//     "gcloud services enable <service> --project <project>".

import { poll } from './harness.mjs';

export const VERDICTS = Object.freeze(['Ready', 'Not ready', 'Unknown']);
export const CAPABILITIES = Object.freeze([
  { key: 'compute', heading: 'Compute', testid: 'verdict-compute' },
  { key: 'storage', heading: 'Storage', testid: 'verdict-storage' },
  { key: 'managedJobs', heading: 'Managed jobs', testid: 'verdict-managed-jobs' },
]);
export const CUSTOM = Object.freeze({ key: 'custom', heading: 'Custom', testid: 'verdict-custom' });
/** The fourth card when SkyPilot's profiles are checked: what the first launch needs beyond sky check. */
export const FIRST_LAUNCH = Object.freeze({ key: 'firstLaunch', heading: 'First launch', testid: 'verdict-first-launch' });
export const ALL_TOPICS = Object.freeze([...CAPABILITIES, CUSTOM]);
const TIMEOUT = 10_000;

// Labels of the option checkboxes: a string is the exact label, a RegExp matches a label with a tail.
export const OPTION_LABELS = Object.freeze({
  customVpc: 'Custom VPC (gcp.vpc_name)',
  openPorts: 'Open ports (resources.ports)',
  tpus: 'TPUs',
  reservations: /^Reservations \(/,
  cloneDisk: 'Clone disk (--clone-disk-from)',
  customImage: 'Custom image (--image-id)',
  gcsMounts: /^GCS storage mounts/,
  skypilotProfiles: /^SkyPilot profiles \(untick to test only the custom list\)/,
});
export const MODE_LABELS = Object.freeze({ parity: /^sky check parity/, docs: /^SkyPilot docs/ });
/** The form as a fresh page shows it. */
export const FORM_DEFAULTS = Object.freeze({
  mode: 'parity',
  options: Object.freeze({
    customVpc: false, openPorts: false, tpus: false, reservations: false, cloneDisk: false,
    customImage: false, gcsMounts: false, skypilotProfiles: true,
  }),
  bucket: '',
  serviceAccount: '',
  custom: '',
});
const VERDICT_HEADINGS = ALL_TOPICS.map((t) => t.heading);
const norm = (s) => (s || '').replace(/\s+/g, ' ').trim();

// Installed in the page just before a click: notes when the click happened and when the page
// next settles (the "Check" button enabled again after the results region or an alert changed,
// with either every verdict final or an alert on screen). Timing is taken in the page, so it does not include
// Playwright's round trips.
function installProbe(buttonName) {
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
    // Every verdict on screen (three, four with the custom list, or only "Custom") is final.
    const verdicts = [...document.querySelectorAll('[role="status"] [data-testid^="verdict-"]')];
    const final = verdicts.length > 0 && verdicts.every((v) => FINAL.includes(v.textContent.trim()));
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

  /** The optional gcloud CLI token, inside its disclosure (opened first when closed). */
  cliTokenInput() { return this.page.getByLabel('gcloud CLI token', { exact: true }); }

  async enterCliToken(token) {
    if (!(await this.cliTokenInput().isVisible())) {
      await this.page.getByText('Also check the gcloud CLI account', { exact: false }).first().click({ timeout: TIMEOUT });
    }
    await this.cliTokenInput().fill(token, { timeout: TIMEOUT });
    await this.cliTokenInput().press('Tab');
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
    return this.verdictsOf(CAPABILITIES);
  }

  /** The First launch verdict ("Ready" | "Not ready" | "Unknown" | null when absent). */
  async firstLaunch() {
    return (await this.verdictsOf([FIRST_LAUNCH])).firstLaunch;
  }

  /** The verdict texts of `topics`, keyed by topic (null = absent). */
  async verdictsOf(topics) {
    const out = {};
    for (const c of topics) out[c.key] = await this.textOfTestId(c.testid);
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
    return this.headingsOf(CAPABILITIES);
  }

  /** Which of `topics` have their heading in the results region, in that order. */
  async headingsOf(topics) {
    const region = this.resultsRegion();
    const found = [];
    for (const c of topics) {
      if ((await region.getByRole('heading', { name: c.heading, exact: true }).count()) > 0) found.push(c.heading);
    }
    return found;
  }

  // ---------- the SkyPilot options, bucket, service account and custom list ----------

  /** The results region whatever verdicts it holds (also a custom-only check). */
  resultsRegion() {
    return this.page.getByRole('status').filter({
      has: this.page.getByRole('heading', { name: new RegExp(`^(${VERDICT_HEADINGS.join('|')})$`) }),
    });
  }

  modeRadio(mode) { return this.page.getByRole('radio', { name: MODE_LABELS[mode] }); }

  optionBox(key) {
    const label = OPTION_LABELS[key];
    if (label === undefined) throw new Error(`no option ${key}`);
    return this.page.getByRole('checkbox', typeof label === 'string' ? { name: label, exact: true } : { name: label });
  }

  bucketInput() { return this.page.getByLabel('Bucket', { exact: true }); }
  serviceAccountInput() { return this.page.getByLabel('Service account', { exact: true }); }
  customInput() { return this.page.getByLabel('Custom permissions', { exact: true }); }

  async setMode(mode) {
    const radio = this.modeRadio(mode);
    await radio.check({ timeout: TIMEOUT });
    await poll(() => radio.isChecked(), { what: `the "${mode}" radio to be checked` });
  }

  async setOption(key, on) {
    const box = this.optionBox(key);
    await box.setChecked(on, { timeout: TIMEOUT });
    await poll(async () => (await box.isChecked()) === on, { what: `option ${key} ${on ? 'ticked' : 'unticked'}` });
  }

  async fillField(locator, text) {
    // Playwright's own fill of a long text (1,000 lines) takes seconds on a busy 2-core machine;
    // the app handles that input event in ~20 ms, so the budget here is the driver's, not the app's.
    await locator.fill(text, { timeout: text.length > 2_000 ? 60_000 : TIMEOUT });
    await poll(async () => (await locator.inputValue()) === text, { what: 'the field to hold the text' });
  }

  /**
   * Sets the form: `{ mode, options: { key: bool }, bucket, serviceAccount, custom }`; whatever
   * is left out takes its default (FORM_DEFAULTS), so this also resets the form.
   */
  async setForm({ mode, options = {}, bucket, serviceAccount, custom } = {}) {
    await this.setMode(mode ?? FORM_DEFAULTS.mode);
    for (const [key, def] of Object.entries(FORM_DEFAULTS.options)) await this.setOption(key, options[key] ?? def);
    await this.fillField(this.bucketInput(), bucket ?? FORM_DEFAULTS.bucket);
    await this.fillField(this.serviceAccountInput(), serviceAccount ?? FORM_DEFAULTS.serviceAccount);
    await this.fillField(this.customInput(), custom ?? FORM_DEFAULTS.custom);
  }

  resetForm() { return this.setForm({}); }

  /** { mode, options, bucket, serviceAccount, custom } as the form shows them. */
  async formState() {
    const options = {};
    for (const key of Object.keys(OPTION_LABELS)) options[key] = await this.optionBox(key).isChecked();
    return {
      mode: (await this.modeRadio('docs').isChecked()) ? 'docs' : ((await this.modeRadio('parity').isChecked()) ? 'parity' : null),
      options,
      bucket: await this.bucketInput().inputValue(),
      serviceAccount: await this.serviceAccountInput().inputValue(),
      custom: await this.customInput().inputValue(),
    };
  }

  customSummary() { return this.textOfTestId('custom-summary'); }

  /** The invalid custom entries listed under the textarea: [{ entry, reason }]. */
  async rejectedEntries() {
    const items = this.page.getByRole('alert').locator('li').filter({ has: this.page.locator('code') });
    const out = [];
    for (let i = 0; i < (await items.count()); i += 1) {
      const item = items.nth(i);
      const entry = norm(await item.locator('code').first().innerText());
      const text = norm(await item.innerText());
      out.push({ entry, reason: norm(text.startsWith(entry) ? text.slice(entry.length) : text) });
    }
    return out;
  }

  /** Every verdict on screen, Custom included: { compute, storage, managedJobs, custom } (null = absent). */
  async allVerdicts() {
    return this.verdictsOf(ALL_TOPICS);
  }

  /** Verdict headings in the results region, in the order of ALL_TOPICS. */
  async allHeadings() {
    return this.headingsOf(ALL_TOPICS);
  }

  /**
   * One verdict card: { status, codes, commands, notes, text } (see below).
   * The card is the nearest element around the verdict's data-testid that holds a heading.
   */
  async card(key) {
    const topic = [...ALL_TOPICS, FIRST_LAUNCH].find((t) => t.key === key);
    const status = this.resultsRegion().getByTestId(topic.testid);
    if ((await status.count()) === 0) return null;
    const card = status.first().locator('xpath=ancestor::*[.//*[self::h1 or self::h2 or self::h3 or self::h4 or self::h5 or self::h6 or @role="heading"]][1]');
    const heading = norm(await card.getByRole('heading').first().innerText());
    if (heading !== topic.heading) throw new Error(`the card around ${topic.testid} is headed "${heading}", not "${topic.heading}"`);
    // The fix advice (roles to ask for and their commands) is read apart from what the card names.
    const outsideAdvice = 'code:not([data-testid="advice"] code)';
    const codes = (await card.locator(outsideAdvice).allInnerTexts()).map(norm);
    const allCodes = (await card.locator('code').allTextContents()).map(norm);
    const advice = card.getByTestId('advice');
    return {
      status: norm(await status.first().innerText()),
      // names shown as <code> (missing permissions, APIs that are off), outside the advice
      codes: codes.filter((c) => /^\S+$/.test(c)),
      // roles the advice suggests (<li data-testid="suggested-role">'s first <code>)
      roles: (await advice.getByTestId('suggested-role').locator('code:first-child').allInnerTexts()).map(norm),
      // <code> holding command lines (e.g. the gcloud fix), visible or folded away
      commands: allCodes.filter((c) => /\s/.test(c)),
      // list items that are sentences: notes, and reasons for "Unknown" (not the advice's)
      notes: (await card.locator('li:not([data-testid="advice"] li)').allInnerTexts()).map(norm).filter((t) => /\s/.test(t)),
      // the card's visible text
      text: norm(await card.innerText()),
    };
  }

  /**
   * The visible APIs list (data-testid="apis"): the first line of each <li> ("compute.googleapis.com: off";
   * a line after it, such as the enable command, is left out), or null when absent or hidden.
   */
  async apis() {
    const list = this.page.getByTestId('apis');
    if ((await list.count()) === 0 || !(await list.first().isVisible())) return null;
    return (await list.first().locator('li').allInnerTexts()).map((t) => norm(t.trim().split('\n')[0]));
  }

  /** The visible text of the results region. */
  async resultsText() {
    const region = this.page.getByRole('status');
    return norm((await region.allInnerTexts()).join(' '));
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
