// A team manager gives a seat, in a real browser: the demo team's manager signs in, opens the
// team console and the demo team, buys seats of a demo course through the team checkout on
// the sandbox's hosted page when the team has no free one, and gives a seat to an address
// nobody has an account with: the seat shows as a pending invitation.
//
// The pages are being redesigned: every selector of a page is in PAGES below, by role, label
// and visible text only (never CSS classes or DOM structure), so a redesign is fixed there.

import assert from 'node:assert/strict';

import {
  browserTest,
  clickAndLoad,
  note,
  pageText,
  shot,
  signIn,
  uniqueEmail,
  visit,
} from './lib.mjs';

/** The demo data (`platform/domain/src/demo/`) this test relies on. */
const DEMO = {
  manager: { email: 'manager@demo.lyceum.test', password: 'demo-manager-pass', name: 'Maria Manager' },
  team: /^demo team$/i,
  // The course whose seats the team buys: the storefront's and the course's short names.
  storefront: 'demo',
  course: 'async-rust-in-practice',
  courseTitle: /async rust in practice/i,
  seats: 2,
  // 2 seats at 49.00.
  total: /98\.00/,
  // The sandbox's test card that succeeds (listed on its pay page).
  card: '4242 4242 4242 4242',
};

/** Every page-specific selector of this test. */
const PAGES = {
  account: {
    signedIn: (page, name) => page.getByText(name).first(),
  },
  console: {
    path: '/team',
    heading: (page) => page.getByRole('heading', { name: /team console/i, level: 1 }),
    team: (page) => page.getByRole('main').getByRole('link', { name: DEMO.team }).first(),
  },
  team: {
    heading: (page) => page.getByRole('heading', { name: DEMO.team, level: 1 }),
    // One course's seat pool: a section named by its heading.
    pool: (page) => page.getByRole('region', { name: DEMO.courseTitle }),
    assignEmail: (pool) => pool.getByLabel(/give a seat to an e-?mail address/i),
    assign: (pool) => pool.getByRole('button', { name: /^give a seat$/i }),
    // The form to buy seats of any course.
    buyStorefront: (page) => page.getByLabel(/^storefront/i),
    buyCourse: (page) => page.getByLabel(/^course/i),
    // "Seats", not a pool's "Seats to buy" (a number field's name ends with its value).
    buyQuantity: (page) => page.getByLabel(/^seats\b(?! to buy)/i),
    buy: (page) => page.getByRole('button', { name: /^buy seats$/i }),
    // After giving a seat to an address without an account.
    invited: (page) => page.getByText(/an invitation was e-?mailed/i),
    seatRow: (pool, email) => pool.getByRole('row').filter({ hasText: email }),
    pending: /pending invitation/i,
    cancelInvitation: (pool, email) => pool.getByRole('button', { name: `Cancel invitation for ${email}` }),
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
    toConsole: (page) => page.getByRole('link', { name: /team console/i }),
  },
};

/** How long the order page may wait for the sandbox's webhook (ms). */
const PAYMENT_CONFIRMATION = 30_000;

browserTest('team manager buys seats and gives one by e-mail', async ({ page }) => {
  note(page, 'the demo team manager signs in and opens the team console');
  await signIn(page, DEMO.manager.email, DEMO.manager.password);
  await PAGES.account.signedIn(page, DEMO.manager.name).waitFor();
  await visit(page, PAGES.console.path);
  await PAGES.console.heading(page).waitFor();
  await shot(page, 'team-console');

  note(page, 'the demo team');
  await clickAndLoad(page, PAGES.console.team(page));
  await PAGES.team.heading(page).waitFor();
  await shot(page, 'team');
  const team = page.url();

  if (!(await hasFreeSeat(page))) {
    note(page, `no free seat of ${DEMO.course}: ${DEMO.seats} bought through the team checkout`);
    await PAGES.team.buyStorefront(page).fill(DEMO.storefront);
    await PAGES.team.buyCourse(page).fill(DEMO.course);
    await PAGES.team.buyQuantity(page).fill(String(DEMO.seats));
    await shot(page, 'buy-seats');
    await clickAndLoad(page, PAGES.team.buy(page));

    note(page, "the sandbox's hosted pay page");
    assert.match(page.url(), PAGES.sandbox.path, `expected the sandbox's pay page, got:\n${await pageText(page)}`);
    await PAGES.sandbox.heading(page).waitFor();
    assert.match(await pageText(page), DEMO.total, 'the pay page shows the seats\' total');
    await PAGES.sandbox.card(page).fill(DEMO.card);
    await shot(page, 'sandbox-pay-page');
    await clickAndLoad(page, PAGES.sandbox.pay(page));

    note(page, 'the order page, until the webhook confirms the payment');
    assert.match(page.url(), PAGES.order.path, `expected the order page, got:\n${await pageText(page)}`);
    await waitForPayment(page);
    await shot(page, 'order-paid');
    await PAGES.order.toConsole(page).waitFor();

    note(page, 'back to the team: the seats are there');
    await visit(page, team);
    await PAGES.team.heading(page).waitFor();
    assert.ok(await hasFreeSeat(page), `the team has a free seat after buying; the page says:\n${await pageText(page)}`);
    await shot(page, 'seats-bought');
  }

  note(page, 'a seat given to an address with no account: an invitation');
  const email = uniqueEmail('colleague');
  const pool = PAGES.team.pool(page);
  await PAGES.team.assignEmail(pool).fill(email);
  await clickAndLoad(page, PAGES.team.assign(pool));
  await PAGES.team.heading(page).waitFor();
  const text = await pageText(page);
  await PAGES.team.invited(page).waitFor().catch(() => assert.fail(`the seat was not given; the page says:\n${text}`));
  const row = PAGES.team.seatRow(PAGES.team.pool(page), email);
  await row.waitFor();
  assert.match(await row.innerText(), PAGES.team.pending, `the seat of ${email} shows as a pending invitation`);
  await PAGES.team.cancelInvitation(PAGES.team.pool(page), email).waitFor();
  await shot(page, 'invitation-pending');

  note(page, 'the console counts the given seat');
  await visit(page, PAGES.console.path);
  await PAGES.console.heading(page).waitFor();
  await shot(page, 'team-console-after');
});

/** Whether the course's seat pool is on the team's page with a free seat to give. */
async function hasFreeSeat(page) {
  const pool = PAGES.team.pool(page);
  if (!(await pool.count())) return false;
  return PAGES.team.assign(pool).isEnabled();
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
