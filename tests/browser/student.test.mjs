// A student's first purchase, in a real browser: register, open the demo storefront, buy a
// paid course, pay on the sandbox's hosted page, wait on the order page for the payment to be
// confirmed, go to the course and open a paid lesson.
//
// The pages are being redesigned: every selector of a page is in PAGES below, by role, label
// and visible text only (never CSS classes or DOM structure), so a redesign is fixed there.

import assert from 'node:assert/strict';

import {
  browserTest,
  clickAndLoad,
  note,
  pageText,
  preferred,
  register,
  shot,
  uniqueEmail,
  visit,
} from './lib.mjs';

/** The demo data (`platform/domain/src/demo/`) this test relies on. */
const DEMO = {
  storefront: '/s/demo',
  storefrontName: /demo academy/i,
  paidCourse: /async rust in practice/i,
  price: /49\.00/,
  // A paid text lesson ("Futures by hand", not a free preview) and what its notes say.
  paidLesson: /futures by hand/i,
  paidLessonContent: /notes of this lesson/i,
  // The sandbox's test card that succeeds (listed on its pay page).
  card: '4242 4242 4242 4242',
};

/** Every page-specific selector of this test. */
const PAGES = {
  // Any page's sign of who is signed in: their name.
  account: {
    signedIn: (page, name) => page.getByText(name).first(),
  },
  storefront: {
    heading: (page) => page.getByRole('heading', { name: DEMO.storefrontName }),
    paidCourse: (page) => page.getByRole('link', { name: DEMO.paidCourse }).first(),
  },
  course: {
    heading: (page) => page.getByRole('heading', { name: DEMO.paidCourse }),
    // A button (a form) or a link (to the checkout page).
    buy: (page) =>
      page
        .getByRole('button', { name: /^buy\b/i })
        .or(page.getByRole('link', { name: /^buy\b/i }))
        .first(),
  },
  // Where the paid lesson is listed once the course is owned: the course page or its player.
  learning: {
    paidLesson: (page) => page.getByRole('link', { name: DEMO.paidLesson }).first(),
  },
  // The checkout page (gateway choice, coupon field); skipped when "Buy" goes straight to the
  // sandbox's pay page.
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
    // The way on to the course: "Go to the course" (its player), else the course's own link.
    toCourse: (page) =>
      preferred(page.getByRole('link', { name: /go to the course/i }), page.getByRole('link', { name: DEMO.paidCourse })),
  },
  lesson: {
    // What an error page or a refused lesson says.
    error: /something went wrong|there is nothing here|no such lesson|sign in (first|to)|buy (this|the) course|payment required|forbidden|access denied/i,
  },
};

const STUDENT_NAME = 'Browser Student';

/** How long the order page may wait for the sandbox's webhook (ms). */
const PAYMENT_CONFIRMATION = 30_000;

browserTest('student buys a course and opens a paid lesson', async ({ page }) => {
  const email = uniqueEmail('student');
  const password = 'browser-student-pass';

  note(page, 'a new student registers on the platform');
  await visit(page, '/register');
  await shot(page, 'register');
  await register(page, email, password, STUDENT_NAME);
  await PAGES.account.signedIn(page, STUDENT_NAME).waitFor();
  await shot(page, 'registered');

  note(page, 'the demo storefront');
  await visit(page, DEMO.storefront);
  await PAGES.storefront.heading(page).waitFor();
  await shot(page, 'storefront');

  note(page, 'a paid course, bought');
  await clickAndLoad(page, PAGES.storefront.paidCourse(page));
  await PAGES.course.heading(page).waitFor();
  assert.match(await pageText(page), DEMO.price, 'the course page shows the price');
  await shot(page, 'paid-course');
  await clickAndLoad(page, PAGES.course.buy(page));

  if (!PAGES.sandbox.path.test(page.url())) {
    note(page, 'the checkout page: the sandbox chosen');
    await PAGES.checkout.heading(page).waitFor();
    await shot(page, 'checkout');
    const sandbox = PAGES.checkout.sandbox(page);
    if (await sandbox.count()) await sandbox.first().check();
    await clickAndLoad(page, PAGES.checkout.proceed(page));
  }

  note(page, "the sandbox's hosted pay page");
  assert.match(page.url(), PAGES.sandbox.path, `expected the sandbox's pay page, got:\n${await pageText(page)}`);
  await PAGES.sandbox.heading(page).waitFor();
  assert.match(await pageText(page), DEMO.price, 'the pay page shows the amount');
  await PAGES.sandbox.card(page).fill(DEMO.card);
  await shot(page, 'sandbox-pay-page');
  await clickAndLoad(page, PAGES.sandbox.pay(page));

  note(page, 'the order page, refreshing itself until the webhook confirms the payment');
  assert.match(page.url(), PAGES.order.path, `expected the order page, got:\n${await pageText(page)}`);
  await shot(page, 'order-status');
  await waitForPayment(page);
  await shot(page, 'order-paid');

  note(page, 'the course, now owned');
  await clickAndLoad(page, await PAGES.order.toCourse(page));
  await PAGES.learning.paidLesson(page).waitFor();
  await shot(page, 'course-owned');

  note(page, 'a paid lesson');
  const lesson = await clickAndLoad(page, PAGES.learning.paidLesson(page));
  assert.ok(lesson, 'opening the lesson navigated nowhere');
  assert.ok(lesson.status() < 400, `the lesson answered ${lesson.status()}`);
  assert.doesNotMatch(new URL(page.url()).pathname, /^\/(login|register)\b/, 'the lesson asked to sign in');
  const text = await pageText(page);
  assert.match(text, DEMO.paidLesson, `the lesson's title is shown; the page says:\n${text}`);
  assert.match(text, DEMO.paidLessonContent, `the lesson's content is shown; the page says:\n${text}`);
  assert.doesNotMatch(text, PAGES.lesson.error, `the lesson shows an error:\n${text}`);
  await shot(page, 'paid-lesson');
});

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
