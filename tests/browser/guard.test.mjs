// The guard of lib.mjs must see what it is there for: a guard that never fires would let every
// other test pass. Fake pages on the server's origin (answered by the browser itself, not the
// server) break the server's own Content-Security-Policy, log an error and get a 5xx.

import assert from 'node:assert/strict';

import { browserTest, takeProblems, url } from './lib.mjs';

browserTest('the guard sees CSP violations, console errors and 5xx responses', async ({ page }) => {
  // The policy the server's pages really carry.
  const login = await fetch(url('/login'));
  const policy = login.headers.get('content-security-policy');
  assert.ok(policy, '/login carries a Content-Security-Policy');
  assert.doesNotMatch(policy, /script-src[^;]*'unsafe-inline'/, 'the pages allow no inline script');

  await page.route('**/__guard-probe', (route) =>
    route.fulfill({
      status: 200,
      contentType: 'text/html; charset=utf-8',
      headers: { 'content-security-policy': policy },
      body: '<!doctype html><title>probe</title><h1>probe</h1><script>document.title = "ran"</script>',
    }),
  );
  await page.route('**/__guard-broken', (route) => route.fulfill({ status: 503, body: 'down' }));
  await page.goto(url('/__guard-probe'));
  assert.equal(await page.title(), 'probe', 'the inline script was blocked');
  await page.evaluate(() => console.error('provoked by the guard test'));
  await page.goto(url('/__guard-broken'));

  await page.waitForTimeout(200);
  const problems = await takeProblems(page);
  const expect = [/^CSP violation on \/__guard-probe: script-src/, /^console error .*provoked by the guard test/, /^HTTP 503 from GET \/__guard-broken/];
  for (const pattern of expect) {
    assert.ok(problems.some((p) => pattern.test(p)), `the guard missed ${pattern}; it saw:\n  ${problems.join('\n  ')}`);
  }
});
