// Shared helpers of the browser tests: Debian's Chromium (headless) through playwright-core,
// a fresh context per test, numbered screenshots and a list of the pages visited under
// `<repo>/target/browser/<test-name>/`, and a guard that fails the test on a console error,
// an uncaught page error, a Content-Security-Policy violation or any 5xx response.
//
// `run.sh` starts the server and passes its address in LYCEUM_BROWSER_BASE_URL.
//
// Selectors for pages live in the test files, so a redesign is fixed there; the only ones here
// are the sign-in and registration forms' (`FORMS`), which every test shares. They go by label
// and role, never by CSS class or DOM structure.

import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

/** The server's origin, without a trailing slash. */
export const BASE_URL = (process.env.LYCEUM_BROWSER_BASE_URL ?? '').replace(/\/+$/, '');
/** Where screenshots and page lists go: `<repo>/target/browser` unless told otherwise. */
export const OUT_DIR =
  process.env.LYCEUM_BROWSER_OUT ??
  path.join(fileURLToPath(new URL('../../', import.meta.url)), 'target', 'browser');
const CHROMIUM = process.env.LYCEUM_CHROMIUM ?? '/usr/bin/chromium';

/** How long an action or a wait may take before the step fails (ms). */
export const STEP_TIMEOUT = 15_000;

/** The sign-in and registration forms (platform pages `/login` and `/register`). */
export const FORMS = {
  name: (page) => page.getByLabel(/^\s*(your |full )?name\b/i),
  email: (page) => page.getByLabel(/e-?mail/i),
  // Every password field: a redesign may add "repeat the password".
  passwords: (page) => page.getByLabel(/password/i),
  registerButton: (page) =>
    page.getByRole('button', { name: /create (an )?account|register|sign up/i }),
  signInButton: (page) => page.getByRole('button', { name: /sign in|log in/i }),
};

let browser;

/** The one browser of this test file (each file runs in its own process). */
async function launch() {
  browser ??= chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  return browser;
}

after(async () => {
  if (browser) await (await browser).close();
});

/** The state of one test's page, found from the page by the helpers. */
const sessions = new WeakMap();

/** `Some Test Name!` → `some-test-name`. */
export function slug(text) {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80);
}

/** A URL of the server: paths are resolved against BASE_URL. */
export function url(pathOrUrl) {
  assert.ok(BASE_URL, 'LYCEUM_BROWSER_BASE_URL is not set: start the tests with tests/browser/run.sh');
  return new URL(pathOrUrl, `${BASE_URL}/`).toString();
}

/**
 * An address as pages.txt and messages show it: a path on the server (the whole URL elsewhere),
 * with long tokens (signed content links, status tokens, session ids) cut short.
 */
function shown(address) {
  const local = BASE_URL && address.startsWith(`${BASE_URL}/`) ? address.slice(BASE_URL.length) : address;
  return local.replace(/[A-Za-z0-9_.~-]{40,}/g, (token) => `${token.slice(0, 8)}…`);
}

class Session {
  constructor(name) {
    this.name = name;
    this.dir = path.join(OUT_DIR, slug(name));
    this.shots = 0;
    this.problems = [];
    this.log = []; // lines of pages.txt
    this.statuses = new Map(); // navigation URL → HTTP status
    this.pending = new Set();
  }

  async open() {
    await fs.rm(this.dir, { recursive: true, force: true });
    await fs.mkdir(this.dir, { recursive: true });
    this.context = await (await launch()).newContext({
      baseURL: `${BASE_URL}/`,
      viewport: { width: 1280, height: 800 },
      locale: 'en-US',
      acceptDownloads: true,
    });
    this.context.setDefaultTimeout(STEP_TIMEOUT);
    this.context.setDefaultNavigationTimeout(30_000);

    // CSP violations: reported from inside every document through a binding.
    await this.context.exposeBinding('__lyceumReportCsp', (_source, v) => {
      this.problem(
        `CSP violation on ${shown(v.documentURI)}: ${v.effectiveDirective} blocked ` +
          `${v.blockedURI || '(inline)'}${v.sourceFile ? ` at ${shown(v.sourceFile)}:${v.lineNumber}` : ''}` +
          `${v.sample ? ` «${v.sample}»` : ''}`,
      );
    });
    await this.context.addInitScript(() => {
      document.addEventListener(
        'securitypolicyviolation',
        (e) => {
          // The binding is absent from sandboxed documents (served content); ignore there.
          window.__lyceumReportCsp?.({
            documentURI: e.documentURI,
            effectiveDirective: e.effectiveDirective,
            blockedURI: e.blockedURI,
            sourceFile: e.sourceFile,
            lineNumber: e.lineNumber,
            sample: e.sample,
          });
        },
        true,
      );
    });
    this.context.on('response', (response) => {
      const status = response.status();
      if (status >= 500) {
        this.problem(`HTTP ${status} from ${response.request().method()} ${shown(response.url())}`);
      }
      const request = response.request();
      if (request.isNavigationRequest()) this.statuses.set(response.url(), status);
    });

    this.page = await this.context.newPage();
    const page = this.page;
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const where = msg.location()?.url ?? '';
      const text = `console error on ${shown(page.url())}: ${msg.text()}${where ? ` (${shown(where)})` : ''}`;
      // Chromium asks every site for /favicon.ico on its own; no page links it. Its absence
      // is listed in pages.txt, not failed on.
      if (new URL(where || 'about:blank').pathname === '/favicon.ico') {
        if (!this.faviconNoted) this.note(`# not failed on: ${text}`);
        this.faviconNoted = true;
        return;
      }
      this.problem(text);
    });
    page.on('pageerror', (err) => this.problem(`uncaught error on ${shown(page.url())}: ${err.message}`));
    page.on('load', () => this.track(this.visit()));
    page.on('download', (download) => this.note(`download ${shown(download.url())} (${download.suggestedFilename()})`));
    sessions.set(page, this);
    return this;
  }

  problem(text) {
    this.problems.push(text);
  }

  note(line) {
    this.log.push(line);
  }

  track(promise) {
    this.pending.add(promise);
    promise.catch(() => {}).finally(() => this.pending.delete(promise));
  }

  /** Records the page just loaded: its address, status, first <h1> and title. */
  async visit() {
    const page = this.page;
    const address = page.url();
    let seen;
    try {
      seen = await page.evaluate(() => ({
        h1: document.querySelector('h1')?.textContent?.trim().replace(/\s+/g, ' ') ?? null,
        title: document.title,
      }));
    } catch {
      seen = { h1: null, title: await page.title().catch(() => '') };
    }
    const status = this.statuses.get(address);
    const line =
      `${shown(address)}${status ? ` [${status}]` : ''}` +
      `  h1: ${seen.h1 === null ? '(none)' : JSON.stringify(seen.h1)}` +
      `  title: ${seen.title ? JSON.stringify(seen.title) : '(none)'}`;
    // A page that refreshes itself (the order status page) is listed once, with a count.
    const last = this.log.at(-1);
    const repeat = last?.match(/^(.*?)(?:  \(×(\d+)\))?$/);
    if (last && repeat && repeat[1] === line) {
      this.log[this.log.length - 1] = `${line}  (×${Number(repeat[2] ?? 1) + 1})`;
    } else {
      this.note(line);
    }
  }

  async settle() {
    await Promise.allSettled([...this.pending]);
  }

  async shot(name, { check = true } = {}) {
    await this.settle();
    this.shots += 1;
    const file = `${String(this.shots).padStart(2, '0')}-${slug(name)}.png`;
    await this.page.screenshot({ path: path.join(this.dir, file), fullPage: true });
    this.note(`    → ${file}`);
    if (check) this.assertClean();
    return file;
  }

  assertClean() {
    assert.deepEqual(this.problems, [], `the page reported problems:\n  ${this.problems.join('\n  ')}`);
  }

  async close() {
    await this.settle();
    await fs.writeFile(
      path.join(this.dir, 'pages.txt'),
      `# ${this.name}\n# base URL: ${BASE_URL}\n${this.log.join('\n')}\n`,
    );
    await this.context?.close();
  }
}

/**
 * A browser test: `fn({ page, context })` runs in a fresh context; a screenshot is taken when
 * it fails, and the test fails on anything the guard saw, even after the last step.
 */
export function browserTest(name, fn, { timeout = 120_000 } = {}) {
  return test(name, { timeout }, async () => {
    const session = await new Session(name).open();
    try {
      await fn({ page: session.page, context: session.context });
      await session.settle();
      session.assertClean();
    } catch (err) {
      await session.shot('failure', { check: false }).catch(() => {});
      session.note(`FAILED at ${shown(session.page.url())}`);
      throw err;
    } finally {
      await session.close();
    }
  });
}

function sessionOf(page) {
  const session = sessions.get(page);
  assert.ok(session, 'this page was not opened by browserTest');
  return session;
}

/**
 * Screenshots the whole page as `NN-<name>.png` in the test's directory, then fails if the
 * guard saw anything so far.
 */
export function shot(page, name) {
  return sessionOf(page).shot(name);
}

/**
 * What the guard has seen so far, taken away from it (the guard's own test provokes problems
 * on purpose; nothing else should call this).
 */
export async function takeProblems(page) {
  const session = sessionOf(page);
  await session.settle();
  return session.problems.splice(0);
}

/** Notes a line in the test's pages.txt (a step's explanation). */
export function note(page, line) {
  sessionOf(page).note(`# ${line}`);
}

/** Opens a path of the server (or a whole URL) and checks it answered below 400. */
export async function visit(page, pathOrUrl) {
  const response = await page.goto(url(pathOrUrl));
  assert.ok(response, `no response for ${pathOrUrl}`);
  assert.ok(response.status() < 400, `${pathOrUrl} answered ${response.status()}`);
  return response;
}

/**
 * Clicks and waits for the page that follows to load; returns the last response of the main
 * frame's navigations meanwhile (after redirects: the page's own), if any.
 */
export async function clickAndLoad(page, locator) {
  let last = null;
  const seen = (response) => {
    const request = response.request();
    if (request.isNavigationRequest() && request.frame() === page.mainFrame()) last = response;
  };
  page.on('response', seen);
  try {
    await locator.click();
    await page.waitForLoadState('load');
  } finally {
    page.off('response', seen);
  }
  return last;
}

/** The first of `locators` that matches something now, else the last (to wait on it). */
export async function preferred(...locators) {
  for (const locator of locators) {
    if (await locator.count()) return locator.first();
  }
  return locators.at(-1).first();
}

/** The visible text of the page, for assertions and failure messages. */
export async function pageText(page) {
  return (await page.locator('body').innerText().catch(() => '')).trim();
}

/** Fails, quoting the page, unless the form left `pathPrefix`. */
async function leftForm(page, pathPrefix, what) {
  const here = new URL(page.url());
  if (here.origin === new URL(BASE_URL).origin && here.pathname.startsWith(pathPrefix)) {
    assert.fail(`${what} did not go through; the page says:\n${await pageText(page)}`);
  }
}

/**
 * Registers an account on the platform's registration page: opens `/register` unless the page
 * is already there (e.g. followed from a "create one" link, keeping where it goes next).
 */
export async function register(page, email, password, name) {
  if (!new URL(page.url(), BASE_URL || undefined).pathname.startsWith('/register')) {
    await visit(page, '/register');
  }
  await FORMS.name(page).fill(name);
  await FORMS.email(page).fill(email);
  const passwords = FORMS.passwords(page);
  const count = await passwords.count();
  assert.ok(count > 0, 'the registration form has no password field');
  for (let i = 0; i < count; i += 1) await passwords.nth(i).fill(password);
  await clickAndLoad(page, FORMS.registerButton(page));
  await leftForm(page, '/register', `Registering ${email}`);
}

/** Signs in on the platform's sign-in page: opens `/login` unless the page is already there. */
export async function signIn(page, email, password) {
  if (!new URL(page.url(), BASE_URL || undefined).pathname.startsWith('/login')) {
    await visit(page, '/login');
  }
  await FORMS.email(page).fill(email);
  await FORMS.passwords(page).fill(password);
  await clickAndLoad(page, FORMS.signInButton(page));
  await leftForm(page, '/login', `Signing in as ${email}`);
}

/** A fresh e-mail address for this run. */
export function uniqueEmail(prefix) {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}@example.com`;
}
