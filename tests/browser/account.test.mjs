// An organiser in a real browser (headless Chromium): opens the one-time setup link the server
// printed, creates the first account, is signed in (the cookie is HttpOnly: the page learns who
// it is from /api/me), logs out and in again with the login form. The console must stay clean
// (the page obeys the Content-Security-Policy) and the setup token must leave the address bar.
import assert from 'node:assert/strict';
import { launchBrowser } from '../lib/browser.mjs';
import { test, startServer, stopAndCheck, rememberSecret, waitFor } from '../lib/harness.mjs';

test('setup link, then logout and login, in the browser', async () => {
  const server = await startServer();
  const m = /\/setup\/([A-Za-z0-9_-]{43})$/m.exec(server.stdoutText());
  assert.ok(m, 'a setup link is printed');
  const token = rememberSecret(m[1]);
  const password = rememberSecret('browser password 1');
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    const problems = [];
    page.on('console', (msg) => {
      // A 401 from /api/me before logging in is expected; anything else is not.
      if (msg.type() === 'error' && !/401/.test(msg.text())) problems.push(msg.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('request', (r) => {
      if (!r.url().startsWith(server.httpBase)) problems.push(`request to ${r.url()}`);
    });

    await page.goto(server.url(`/setup/${token}`));
    await page.waitForSelector('#form:not([hidden])');
    assert.match(await page.textContent('#title'), /first organiser account/);
    await page.fill('#email', 'browser@example.com');
    await page.fill('#password', password);
    await page.click('#submit');
    await page.waitForSelector('#signed-in:not([hidden])');
    assert.equal(await page.textContent('#who'), 'browser@example.com');
    assert.equal(new URL(page.url()).pathname, '/login', 'the token left the address bar');
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'lectern_session');
    assert.ok(session?.httpOnly && session.sameSite === 'Strict', JSON.stringify(cookies));
    rememberSecret(session.value);
    assert.equal(await page.evaluate(() => document.cookie), '', 'scripts cannot read it');

    // A reload stays signed in; logout shows the login form; logging in signs in again.
    await page.reload();
    await page.waitForSelector('#signed-in:not([hidden])');
    await page.click('#logout');
    await page.waitForSelector('#form:not([hidden])');
    assert.match(await page.textContent('#status'), /Logged out/);
    await page.fill('#email', 'browser@example.com');
    await page.fill('#password', 'wrong password!');
    await page.click('#submit');
    await waitFor(async () => /wrong email or password/.test(await page.textContent('#status')),
      10000, 'the refusal to show');
    await page.fill('#password', password);
    await page.click('#submit');
    await page.waitForSelector('#signed-in:not([hidden])');
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
  }
  await stopAndCheck(server);
});
