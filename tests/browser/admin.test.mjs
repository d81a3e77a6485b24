// The platform admin's day, in a real browser: someone registers and applies for a storefront
// through the API (a bearer token from `POST /api/v1/auth/login`, then `POST /api/v1/tenants`),
// a student buys a demo course on the sandbox's hosted page, and the platform admin signs in,
// approves the new storefront on /admin/tenants and sees it active, then opens the webhook log,
// opens the delivery that paid the student's order, replays it and sees the replay logged with
// the outcome `duplicate` — and the order still paid once (nothing doubled).
//
// The pages are being redesigned: every selector of a page is in PAGES below, by role, label
// and visible text only (never CSS classes or DOM structure), so a redesign is fixed there.

import assert from 'node:assert/strict';

import { request } from 'playwright-core';

import {
  BASE_URL,
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
  admin: { email: 'admin@demo.lyceum.test', password: 'demo-admin-pass', name: 'Ada Admin' },
  storefront: '/s/demo',
  paidCourse: /async rust in practice/i,
  price: '49.00 USD',
  // The sandbox's test card that succeeds (listed on its pay page).
  card: '4242 4242 4242 4242',
};

/** The storefront applied for in this run (the server's data outlives a test). */
const RUN = Date.now().toString(36);
const APPLICATION = {
  slug: `browser-shop-${RUN}`,
  name: `Browser Shop ${RUN}`,
  currency: 'USD',
};

/** Every page-specific selector of this test. */
const PAGES = {
  account: {
    signedIn: (page, name) => page.getByText(name).first(),
    signOut: (page) => page.getByRole('button', { name: /sign out|log out/i }),
    signedOut: (page) => page.getByRole('link', { name: /^sign in$/i }).first(),
  },
  storefront: {
    paidCourse: (page) => page.getByRole('link', { name: DEMO.paidCourse }).first(),
  },
  course: {
    heading: (page) => page.getByRole('heading', { name: DEMO.paidCourse, level: 1 }),
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
    // The order's id is in the order page's address.
    path: /\/checkout\/([^/?#]+)\/complete/,
    paid: (page) =>
      page
        .getByText(/payment confirmed/i)
        .or(page.getByText(/status:\s*paid\b/i))
        .first(),
    failed: /payment failed|expired|cancelled|refunded|disputed/i,
  },
  admin: {
    path: '/admin',
    heading: (page) => page.getByRole('heading', { name: /platform admin/i, level: 1 }),
    nav: (page, name) => page.getByRole('navigation', { name: /^admin$/i }).getByRole('link', { name }),
    balanced: (page) => page.getByText(/every currency and every transaction sums to zero/i),
  },
  tenants: {
    heading: (page) => page.getByRole('heading', { name: /^storefronts$/i, level: 1 }),
    row: (page) => page.getByRole('row').filter({ hasText: APPLICATION.slug }),
    approve: (row) => row.getByRole('button', { name: `Approve ${APPLICATION.name}` }),
    approved: (page) => page.getByText(/the storefront is active/i),
    // The status column's word.
    status: (row, status) => row.getByText(new RegExp(`^${status}$`, 'i')),
  },
  webhooks: {
    heading: (page) => page.getByRole('heading', { name: /^webhook log$/i, level: 1 }),
    provider: (page) => page.getByLabel(/^provider/i),
    outcome: (page) => page.getByLabel(/^outcome/i),
    filter: (page) => page.getByRole('button', { name: /filter deliveries/i }),
    // Each delivery is linked by the time it was received ("2026-11-29 21:10 UTC").
    deliveries: (page) => page.getByRole('main').getByRole('link', { name: /^\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d UTC$/ }),
  },
  delivery: {
    heading: (page) => page.getByRole('heading', { name: /^webhook delivery$/i, level: 1 }),
    replay: (page) => page.getByRole('button', { name: /^replay this delivery$/i }),
    replayed: (page) => page.getByText(/this is the replay's own log entry/i),
    // "Outcome  duplicate" among the delivery's facts; and each event's outcome.
    outcome: /outcome\s+(applied|duplicate|ignored|flagged|failed|refused)\b/i,
    // "Replay of  <the original's id>" among the replay's facts.
    replayOf: (id) => new RegExp(`replay of\\s+${id}`, 'i'),
    events: (page) => page.getByRole('table').getByRole('row').filter({ has: page.getByRole('cell') }),
  },
  adminOrder: {
    heading: (page) => page.getByRole('heading', { name: /^order\b/i, level: 1 }),
    // "Paid  49.00 USD" among the order's facts.
    paid: /\bPaid\s+([\d.,]+ [A-Z]{3})/,
    // The provider's events recorded for the order, and its status changes (tables named by
    // their captions); a row of data has cells, a header row only column headers.
    events: (page) => page.getByRole('table', { name: /verified events recorded/i }).getByRole('row').filter({ has: page.getByRole('cell') }),
    audit: (page) => page.getByRole('table', { name: /status changes/i }).getByRole('row').filter({ has: page.getByRole('cell') }),
  },
};

const BUYER_NAME = 'Browser Webhook Buyer';

/** How long the order page may wait for the sandbox's webhook (ms). */
const PAYMENT_CONFIRMATION = 30_000;
/** How many of the newest sandbox deliveries are opened to find the order's. */
const DELIVERIES_TO_SEARCH = 25;

browserTest('admin approves a storefront and replays a webhook delivery', async ({ page }) => {
  note(page, `through the API: an applicant registers and applies for "${APPLICATION.slug}"`);
  const applied = await applyThroughApi();
  note(page, `applied: ${applied.slug} is ${applied.status}`);

  note(page, 'a student registers and buys a demo course on the sandbox');
  await register(page, uniqueEmail('webhook-buyer'), 'browser-buyer-pass', BUYER_NAME);
  await PAGES.account.signedIn(page, BUYER_NAME).waitFor();
  await visit(page, DEMO.storefront);
  await clickAndLoad(page, PAGES.storefront.paidCourse(page));
  await PAGES.course.heading(page).waitFor();
  await clickAndLoad(page, PAGES.course.buy(page));
  if (!PAGES.sandbox.path.test(page.url())) {
    await PAGES.checkout.heading(page).waitFor();
    const sandbox = PAGES.checkout.sandbox(page);
    if (await sandbox.count()) await sandbox.first().check();
    await clickAndLoad(page, PAGES.checkout.proceed(page));
  }
  assert.match(page.url(), PAGES.sandbox.path, `expected the sandbox's pay page, got:\n${await pageText(page)}`);
  await PAGES.sandbox.heading(page).waitFor();
  await PAGES.sandbox.card(page).fill(DEMO.card);
  await clickAndLoad(page, PAGES.sandbox.pay(page));
  const orderId = page.url().match(PAGES.order.path)?.[1];
  assert.ok(orderId, `expected the order page, got ${page.url()}:\n${await pageText(page)}`);
  await waitForPayment(page);
  note(page, `order ${orderId} paid`);
  await shot(page, 'order-paid');
  await clickAndLoad(page, PAGES.account.signOut(page));
  await PAGES.account.signedOut(page).waitFor();

  note(page, 'the platform admin signs in');
  await signIn(page, DEMO.admin.email, DEMO.admin.password);
  await PAGES.account.signedIn(page, DEMO.admin.name).waitFor();
  await visit(page, PAGES.admin.path);
  await PAGES.admin.heading(page).waitFor();
  await shot(page, 'admin-overview');

  note(page, 'the new storefront, pending, approved');
  await clickAndLoad(page, PAGES.admin.nav(page, /^storefronts$/i));
  await PAGES.tenants.heading(page).waitFor();
  const pending = PAGES.tenants.row(page);
  await PAGES.tenants.status(pending, 'pending').waitFor();
  await shot(page, 'storefronts-pending');
  await clickAndLoad(page, PAGES.tenants.approve(pending));
  await PAGES.tenants.approved(page).waitFor();
  const active = PAGES.tenants.row(page);
  await PAGES.tenants.status(active, 'active').waitFor();
  assert.equal(await PAGES.tenants.approve(active).count(), 0, 'an active storefront offers no approval');
  await shot(page, 'storefront-approved');

  note(page, "the webhook log: the sandbox's applied deliveries");
  await clickAndLoad(page, PAGES.admin.nav(page, /^webhook log$/i));
  await PAGES.webhooks.heading(page).waitFor();
  await PAGES.webhooks.provider(page).selectOption('sandbox');
  await PAGES.webhooks.outcome(page).selectOption('applied');
  await clickAndLoad(page, PAGES.webhooks.filter(page));
  await PAGES.webhooks.heading(page).waitFor();
  await shot(page, 'webhook-log');

  note(page, `the delivery that paid order ${orderId}`);
  const links = await PAGES.webhooks.deliveries(page).evaluateAll((as) => as.map((a) => a.href));
  assert.ok(links.length > 0, `the webhook log lists applied sandbox deliveries; it says:\n${await pageText(page)}`);
  let original = null;
  for (const link of links.slice(0, DELIVERIES_TO_SEARCH)) {
    await visit(page, link);
    await PAGES.delivery.heading(page).waitFor();
    if ((await pageText(page)).includes(orderId)) {
      original = link;
      break;
    }
  }
  assert.ok(original, `none of the ${Math.min(links.length, DELIVERIES_TO_SEARCH)} newest applied sandbox deliveries carries order ${orderId}`);
  const before = await pageText(page);
  assert.match(before, PAGES.delivery.outcome, `the delivery shows its outcome:\n${before}`);
  assert.equal(before.match(PAGES.delivery.outcome)[1].toLowerCase(), 'applied', 'the original delivery was applied');
  await shot(page, 'delivery');

  note(page, 'the order before the replay');
  const orderBefore = await orderFacts(page, orderId);
  note(page, `paid ${orderBefore.paid}; ${orderBefore.events} provider event(s), ${orderBefore.changes} status change(s)`);
  await visit(page, original);
  await PAGES.delivery.heading(page).waitFor();

  note(page, 'the delivery, replayed (the page asks to confirm first)');
  let asked = null;
  page.once('dialog', async (dialog) => {
    asked = dialog.message();
    await dialog.accept();
  });
  await clickAndLoad(page, PAGES.delivery.replay(page));
  assert.ok(asked, 'the replay asked for confirmation');
  note(page, `confirmed: "${asked}"`);
  await PAGES.delivery.replayed(page).waitFor();
  const replay = await pageText(page);
  assert.notEqual(page.url().split('?')[0], original, 'the replay is a log entry of its own');
  assert.equal(replay.match(PAGES.delivery.outcome)?.[1]?.toLowerCase(), 'duplicate', `the replay's outcome is duplicate:\n${replay}`);
  assert.ok(replay.includes(orderId), `the replay carries order ${orderId}`);
  const originalId = new URL(original).pathname.split('/').pop();
  assert.match(replay, PAGES.delivery.replayOf(originalId), `the replay names the delivery it replays:\n${replay}`);
  const events = await PAGES.delivery.events(page).allInnerTexts();
  assert.ok(events.length > 0, 'the replay lists its events');
  for (const event of events) {
    assert.match(event, /duplicate/i, `every replayed event is a duplicate: ${event}`);
  }
  await shot(page, 'replay-duplicate');

  note(page, 'the order after the replay: paid once, nothing doubled');
  const orderAfter = await orderFacts(page, orderId);
  assert.deepEqual(orderAfter, orderBefore, 'the replay changed nothing on the order');
  assert.equal(orderAfter.paid, DEMO.price, `the order is paid ${DEMO.price}, once`);
  await shot(page, 'order-after-replay');

  note(page, 'the ledger still balances');
  await visit(page, PAGES.admin.path);
  await PAGES.admin.balanced(page).waitFor();
  await shot(page, 'admin-overview-after');

  note(page, 'the webhook log lists the replay among the duplicates');
  await visit(page, '/admin/webhooks?gateway=sandbox&outcome=duplicate');
  await PAGES.webhooks.heading(page).waitFor();
  assert.ok((await PAGES.webhooks.deliveries(page).count()) > 0, 'the log lists the duplicate replay');
  await shot(page, 'webhook-log-duplicates');
});

/** The order's page in the admin: what it says was paid, and how many events and changes. */
async function orderFacts(page, orderId) {
  await visit(page, `/admin/orders/${orderId}`);
  await PAGES.adminOrder.heading(page).waitFor();
  const text = await pageText(page);
  const paid = text.match(PAGES.adminOrder.paid)?.[1];
  assert.ok(paid, `the order's page says what was paid:\n${text}`);
  return {
    paid,
    events: await PAGES.adminOrder.events(page).count(),
    changes: await PAGES.adminOrder.audit(page).count(),
  };
}

/**
 * Registers an applicant, signs in for a bearer token and applies for a storefront, all
 * through the API; returns the new storefront as the API answers it.
 */
async function applyThroughApi() {
  const api = await request.newContext({ baseURL: `${BASE_URL}/` });
  try {
    const email = uniqueEmail('applicant');
    const password = 'browser-applicant-pass';
    const registered = await api.post('api/v1/auth/register', {
      data: { email, password, name: 'Browser Applicant' },
    });
    assert.equal(registered.status(), 201, `registering: ${await registered.text()}`);
    const login = await api.post('api/v1/auth/login', { data: { email, password } });
    assert.equal(login.status(), 200, `signing in: ${await login.text()}`);
    const { token } = await login.json();
    assert.ok(token, 'the login answers a token');
    const created = await api.post('api/v1/tenants', {
      data: APPLICATION,
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(created.status(), 201, `applying: ${await created.text()}`);
    const tenant = await created.json();
    assert.equal(tenant.slug, APPLICATION.slug);
    assert.equal(tenant.status, 'pending', 'a new storefront waits for approval');
    return tenant;
  } finally {
    await api.dispose();
  }
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
