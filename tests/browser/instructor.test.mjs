// An instructor's first course, in a real browser: the demo storefront's instructor signs in,
// opens the studio, creates a course with a price, adds a section and a text lesson marked as a
// free preview, and publishes it. A student then registers (in the same browser, after the
// instructor signs out), opens the free preview, buys the course on the sandbox's hosted page,
// and the instructor, signed in again, sees the sale on the studio dashboard: this month's
// sales figure and today's bar of the "sales by day" chart grow by at least the price.
//
// Other test files run at the same time and buy the demo storefront's courses too, so the
// dashboard's figures are compared as "grew by at least the price", never by equality.
//
// The pages are being redesigned: every selector of a page is in PAGES below, by role, label
// and visible text only (never CSS classes or DOM structure), so a redesign is fixed there.

import assert from 'node:assert/strict';

import {
  browserTest,
  clickAndLoad,
  note,
  pageText,
  register,
  shot,
  signIn,
  uniqueEmail,
  visit,
} from './lib.mjs';

/** The demo data (`platform/domain/src/demo/`) this test relies on. */
const DEMO = {
  instructor: { email: 'instructor@demo.lyceum.test', password: 'demo-instructor-pass', name: 'Ivan Instructor' },
  storefront: 'demo',
  storefrontName: /demo academy/i,
  currency: 'USD',
  // The sandbox's test card that succeeds (listed on its pay page).
  card: '4242 4242 4242 4242',
};

/** What this test builds: a unique course per run (the server's data outlives a test). */
const RUN = Date.now().toString(36);
const COURSE = {
  title: `Browser-built course ${RUN}`,
  slug: `browser-course-${RUN}`,
  description: 'Made by the instructor browser test: one section, one free text lesson.',
  price: '23.45',
  cents: 2345,
  section: 'First things',
  lesson: 'A free look inside',
  lessonBody: 'The **free preview** of this course: anyone may read it, bought or not.',
  lessonContent: /anyone may read it, bought or not/i,
};

/** Every page-specific selector of this test. */
const PAGES = {
  // Any page's sign of who is signed in, and the header's way out.
  account: {
    signedIn: (page, name) => page.getByText(name).first(),
    signOut: (page) => page.getByRole('button', { name: /sign out|log out/i }),
    signedOut: (page) => page.getByRole('link', { name: /^sign in$/i }).first(),
  },
  studio: {
    path: '/studio',
    heading: (page) => page.getByRole('heading', { name: /^studio$/i, level: 1 }),
    storefront: (page) => page.getByRole('main').getByRole('link', { name: DEMO.storefrontName }).first(),
  },
  // The storefront's own navigation inside the studio.
  studioNav: {
    courses: (page) => page.getByRole('navigation', { name: DEMO.storefrontName }).getByRole('link', { name: /^courses$/i }),
  },
  dashboard: {
    heading: (page) => page.getByRole('heading', { name: DEMO.storefrontName, level: 1 }),
    // "49.00 USD" above "Sales this month", in the page's text.
    salesThisMonth: new RegExp(`([−-]?\\d[\\d,]*(?:\\.\\d+)?)\\s*${DEMO.currency}\\s*Sales this month`, 'i'),
    // The daily sales chart (an SVG with role img named by its <title>), and one bar's own
    // <title> ("Nov 29: 23.45"), which browsers show on hover.
    salesByDay: (page) => page.getByRole('img', { name: /sales by day/i }),
    barTitles: (chart) => chart.locator('title'),
    charts: (page) => page.getByRole('img'),
    // The month the figures are of ("November 2026"), the first heading under the title.
    month: (page) => page.getByRole('heading', { level: 2 }).first(),
  },
  courses: {
    heading: (page) => page.getByRole('heading', { name: /^courses$/i, level: 1 }),
    title: (page) => page.getByLabel(/^title/i),
    slug: (page) => page.getByLabel(/address name/i),
    description: (page) => page.getByLabel(/^description/i),
    price: (page) => page.getByLabel(/^price/i),
    create: (page) => page.getByRole('button', { name: /create the course/i }),
  },
  course: {
    heading: (page) => page.getByRole('heading', { name: COURSE.title, level: 1 }),
    newSection: (page) => page.getByLabel(/new section/i),
    addSection: (page) => page.getByRole('button', { name: /add the section/i }),
    section: (page) => page.getByRole('heading', { name: COURSE.section }),
    // The "Add a lesson to …" disclosure of the section (a <details>, role group).
    addLessonToggle: (page) => page.getByText(new RegExp(`add a lesson to .${COURSE.section}.`, 'i')),
    addLessonForm: (page) => page.getByRole('group').filter({ hasText: new RegExp(`add a lesson to .${COURSE.section}.`, 'i') }),
    lessonTitle: (form) => form.getByLabel(/^title/i),
    lessonKind: (form) => form.getByLabel(/^kind/i),
    lessonBody: (form) => form.getByLabel(/^text/i),
    freePreview: (form) => form.getByLabel(/free preview/i),
    addLesson: (form) => form.getByRole('button', { name: /add the lesson/i }),
    lesson: (page) => page.getByRole('link', { name: COURSE.lesson }),
    publish: (page) => page.getByRole('button', { name: /^publish$/i }),
    published: (page) => page.getByText(/published: the course is in the storefront's catalog/i),
    viewOnStorefront: (page) => page.getByRole('link', { name: /view on the storefront/i }),
  },
  // The lesson page of the studio, where adding a lesson lands.
  studioLesson: {
    heading: (page) => page.getByRole('heading', { name: COURSE.lesson, level: 1 }),
    freePreview: (page) => page.getByRole('main').getByText(/^free preview$/i).first(),
    toCourse: (page) => page.getByRole('main').getByRole('link', { name: COURSE.title }),
  },
  // The course's page on the storefront, as a student sees it.
  storefrontCourse: {
    heading: (page) => page.getByRole('heading', { name: COURSE.title, level: 1 }),
    freePreview: (page) => page.getByText(/^free preview$/i).first(),
    lesson: (page) => page.getByRole('link', { name: COURSE.lesson }).first(),
    buy: (page) =>
      page
        .getByRole('button', { name: /^buy\b/i })
        .or(page.getByRole('link', { name: /^buy\b/i }))
        .first(),
  },
  checkout: {
    heading: (page) => page.getByRole('heading', { name: /checkout/i }),
    sandbox: (page) => page.getByLabel(/sandbox/i),
    proceed: (page) =>
      page.getByRole('button', { name: /continue to payment|^pay\b|place order|checkout/i }).first(),
  },
  sandbox: {
    path: /\/sandbox\/pay\//,
    heading: (page) => page.getByRole('heading', { name: /^pay\b/i }),
    card: (page) => page.getByLabel(/card number/i),
    pay: (page) => page.getByRole('button', { name: /^pay\b/i }),
  },
  order: {
    path: /\/checkout\/[^/]+\/complete/,
    paid: (page) =>
      page
        .getByText(/payment confirmed/i)
        .or(page.getByText(/status:\s*paid\b/i))
        .first(),
    failed: /payment failed|expired|cancelled|refunded|disputed/i,
  },
  error: /something went wrong|there is nothing here|not allowed|forbidden|access denied/i,
};

const STUDENT_NAME = 'Browser Buyer';

/** How long the order page may wait for the sandbox's webhook (ms). */
const PAYMENT_CONFIRMATION = 30_000;

browserTest('instructor builds and publishes a course, then sees its sale on the dashboard', async ({ page }) => {
  note(page, 'the demo storefront\'s instructor signs in and opens the studio');
  await signIn(page, DEMO.instructor.email, DEMO.instructor.password);
  await PAGES.account.signedIn(page, DEMO.instructor.name).waitFor();
  await visit(page, PAGES.studio.path);
  await PAGES.studio.heading(page).waitFor();
  await shot(page, 'studio');

  note(page, "the storefront's dashboard before the sale");
  await clickAndLoad(page, PAGES.studio.storefront(page));
  await PAGES.dashboard.heading(page).waitFor();
  const before = await salesOnDashboard(page);
  note(page, `before: ${cents(before.month)} this month, ${cents(before.today)} on today's bar (${before.label})`);
  await shot(page, 'dashboard-before');

  note(page, 'a new course: title, address name, price');
  await clickAndLoad(page, PAGES.studioNav.courses(page));
  await PAGES.courses.heading(page).waitFor();
  await PAGES.courses.title(page).fill(COURSE.title);
  await PAGES.courses.slug(page).fill(COURSE.slug);
  await PAGES.courses.description(page).fill(COURSE.description);
  await PAGES.courses.price(page).fill(COURSE.price);
  await shot(page, 'new-course-form');
  await clickAndLoad(page, PAGES.courses.create(page));
  await expectHeading(page, PAGES.course.heading(page), 'creating the course');
  assert.match(await pageText(page), new RegExp(`${COURSE.price.replace('.', '\\.')}\\s*${DEMO.currency}`), 'the course page shows the price');
  await shot(page, 'course-created');

  note(page, 'a section');
  await PAGES.course.newSection(page).fill(COURSE.section);
  await clickAndLoad(page, PAGES.course.addSection(page));
  await expectHeading(page, PAGES.course.section(page), 'adding the section');

  note(page, 'a text lesson in it, marked as a free preview');
  await PAGES.course.addLessonToggle(page).click();
  const form = PAGES.course.addLessonForm(page);
  await PAGES.course.lessonTitle(form).fill(COURSE.lesson);
  await PAGES.course.lessonKind(form).selectOption({ label: 'Text' });
  await PAGES.course.lessonBody(form).fill(COURSE.lessonBody);
  await PAGES.course.freePreview(form).check();
  await shot(page, 'add-lesson-form');
  await clickAndLoad(page, PAGES.course.addLesson(form));
  await expectHeading(page, PAGES.studioLesson.heading(page), 'adding the lesson');
  await PAGES.studioLesson.freePreview(page).waitFor();
  await shot(page, 'lesson-added');

  note(page, 'the course, published');
  await clickAndLoad(page, PAGES.studioLesson.toCourse(page));
  await PAGES.course.lesson(page).waitFor();
  await clickAndLoad(page, PAGES.course.publish(page));
  await PAGES.course.published(page).waitFor();
  await PAGES.course.viewOnStorefront(page).waitFor();
  await shot(page, 'course-published');
  const storefrontCourse = new URL(await PAGES.course.viewOnStorefront(page).getAttribute('href'), page.url()).toString();

  note(page, 'the instructor signs out; a student registers');
  await clickAndLoad(page, PAGES.account.signOut(page));
  await PAGES.account.signedOut(page).waitFor();
  await register(page, uniqueEmail('buyer'), 'browser-buyer-pass', STUDENT_NAME);
  await PAGES.account.signedIn(page, STUDENT_NAME).waitFor();

  note(page, "the new course on the storefront, and its free preview before buying");
  await visit(page, storefrontCourse);
  await PAGES.storefrontCourse.heading(page).waitFor();
  await PAGES.storefrontCourse.freePreview(page).waitFor();
  await shot(page, 'storefront-course');
  await clickAndLoad(page, PAGES.storefrontCourse.lesson(page));
  const preview = await pageText(page);
  assert.match(preview, COURSE.lessonContent, `the free preview opens before buying; the page says:\n${preview}`);
  await shot(page, 'free-preview');

  note(page, 'the course, bought on the sandbox');
  await visit(page, storefrontCourse);
  await clickAndLoad(page, PAGES.storefrontCourse.buy(page));
  if (!PAGES.sandbox.path.test(page.url())) {
    await PAGES.checkout.heading(page).waitFor();
    const sandbox = PAGES.checkout.sandbox(page);
    if (await sandbox.count()) await sandbox.first().check();
    await clickAndLoad(page, PAGES.checkout.proceed(page));
  }
  assert.match(page.url(), PAGES.sandbox.path, `expected the sandbox's pay page, got:\n${await pageText(page)}`);
  await PAGES.sandbox.heading(page).waitFor();
  assert.match(await pageText(page), new RegExp(COURSE.price.replace('.', '\\.')), 'the pay page shows the amount');
  await PAGES.sandbox.card(page).fill(DEMO.card);
  await clickAndLoad(page, PAGES.sandbox.pay(page));
  assert.match(page.url(), PAGES.order.path, `expected the order page, got:\n${await pageText(page)}`);
  await waitForPayment(page);
  await shot(page, 'order-paid');

  note(page, 'the student signs out; the instructor signs in again and opens the dashboard');
  await clickAndLoad(page, PAGES.account.signOut(page));
  await PAGES.account.signedOut(page).waitFor();
  await signIn(page, DEMO.instructor.email, DEMO.instructor.password);
  await PAGES.account.signedIn(page, DEMO.instructor.name).waitFor();
  await visit(page, `${PAGES.studio.path}/${DEMO.storefront}`);
  await PAGES.dashboard.heading(page).waitFor();
  const after = await salesOnDashboard(page);
  note(page, `after: ${cents(after.month)} this month, ${cents(after.today)} on today's bar (${after.label})`);
  const charts = await PAGES.dashboard.charts(page).count();
  assert.ok(charts >= 2, `the dashboard draws its charts (found ${charts})`);
  await shot(page, 'dashboard-after-sale');

  // Compared in cents; only growth by at least the price: other tests sell at the same time.
  if (after.label === before.label) {
    assert.ok(
      after.today - before.today >= COURSE.cents,
      `today's bar (${after.label}) grew by at least ${COURSE.price}: ${cents(before.today)} → ${cents(after.today)}`,
    );
  }
  if (after.monthName === before.monthName) {
    assert.ok(
      after.month - before.month >= COURSE.cents,
      `this month's sales grew by at least ${COURSE.price}: ${cents(before.month)} → ${cents(after.month)}`,
    );
  }
  assert.ok(after.today >= COURSE.cents, `today's bar shows the sale: ${cents(after.today)}`);
});

/** Waits for `heading` after a form, quoting the page (with any refusal) when it is not there. */
async function expectHeading(page, heading, what) {
  try {
    await heading.waitFor();
  } catch (err) {
    assert.fail(`${what} did not go through; ${page.url()} says:\n${await pageText(page)}\n(${err.message})`);
  }
}

/** An amount as shown ("1,234.50", "−12", "0") in cents. */
function toCents(text) {
  const negative = /^[−-]/.test(text);
  const [whole, fraction = ''] = text.replace(/^[−-]/, '').replace(/,/g, '').split('.');
  const value = Number(whole) * 100 + Number(fraction.padEnd(2, '0').slice(0, 2));
  return negative ? -value : value;
}

/** Cents as "23.45", for messages. */
function cents(value) {
  return (value / 100).toFixed(2);
}

/**
 * The dashboard's sales: this month's figure, and the value of today's bar of the daily chart
 * (its <title>, "Nov 29: 23.45"), both in cents.
 */
async function salesOnDashboard(page) {
  const text = await pageText(page);
  assert.doesNotMatch(text, PAGES.error, `the dashboard shows an error:\n${text}`);
  const month = text.match(PAGES.dashboard.salesThisMonth);
  assert.ok(month, `the dashboard shows this month's sales; it says:\n${text}`);
  const monthName = (await PAGES.dashboard.month(page).textContent())?.trim();

  // The chart's days are UTC days, labelled like "Nov 29".
  const label = new Date().toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
  const chart = PAGES.dashboard.salesByDay(page);
  await chart.waitFor();
  const titles = await PAGES.dashboard.barTitles(chart).allTextContents();
  const bar = titles.map((t) => t.trim()).find((t) => t.startsWith(`${label}:`));
  assert.ok(bar, `the daily sales chart has a bar for today (${label}); its titles:\n  ${titles.join('\n  ')}`);
  return {
    month: toCents(month[1]),
    monthName,
    label,
    today: toCents(bar.slice(label.length + 1).trim()),
  };
}

/**
 * Waits on the order page until it says the payment is confirmed: the page refreshes itself
 * while pending, and is reloaded here too in case it does not.
 */
async function waitForPayment(page) {
  const deadline = Date.now() + PAYMENT_CONFIRMATION;
  for (;;) {
    try {
      await PAGES.order.paid(page).waitFor({ timeout: 3_000 });
      return;
    } catch (err) {
      if (err?.name !== 'TimeoutError') throw err;
    }
    const text = await pageText(page);
    assert.doesNotMatch(text, PAGES.order.failed, `the order did not get paid:\n${text}`);
    assert.ok(Date.now() < deadline, `the payment was not confirmed within ${PAYMENT_CONFIRMATION / 1000} s:\n${text}`);
    await page.reload({ waitUntil: 'load' }).catch(() => {});
  }
}
