// The log stream setup page in Chromium, as an organization's IT admin uses it: open the setup link, add an HTTPS
// stream, copy its signing secret, send a test event; another organization's stream and an expired link are refused.
//
// Run by PortalBrowserTest with: PORTAL_LINK (a fresh link), EXPIRED_LINK, OTHER_STREAM_ID (another organization's
// stream), RECEIVER_URL (an endpoint answering 200), SCREENSHOT_DIR; optionally ORG_NAME and CHROMIUM.
// Prints SIGNING_SECRET=<the secret the page showed>, for the caller to check the receiver's signature with.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

const PORTAL_LINK = required('PORTAL_LINK');
const EXPIRED_LINK = required('EXPIRED_LINK');
const OTHER_STREAM_ID = required('OTHER_STREAM_ID');
const RECEIVER_URL = required('RECEIVER_URL');
const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR || path.join(os.tmpdir(), 'auditstream-portal-screenshots');

let browser;
let context;
let page;
let streamId; // the stream this run adds
const pageErrors = [];

before(async () => {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(30_000);
  page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    // the 401, 404 and 410 this test provokes are logged as failed loads: only the page's own errors are news
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      console.error(`[page] ${message.text()}`);
    }
  });
});

after(async () => {
  await browser?.close();
});

async function screenshot(name) {
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, name), fullPage: true });
}

/** Runs a test's steps; when one fails, keeps a screenshot of the page as it was. */
function step(name, file, body) {
  test(name, { timeout: 90_000 }, async (t) => {
    try {
      await body(t);
    } catch (error) {
      await screenshot(`failed-${file}.png`).catch(() => {});
      throw error;
    }
  });
}

const testid = (id) => page.getByTestId(id);
const row = () => page.locator(`[data-testid="stream-row"][data-stream-id="${streamId}"]`);

// Setup links live for minutes (seconds in the test), so this opens it before anything else.
step('the setup link opens the organization’s page', 'open', async () => {
  await page.goto(PORTAL_LINK);
  await testid('org-name').waitFor();
  const name = (await testid('org-name').textContent()).trim();
  assert.ok(name.length > 0, 'the organization name is empty');
  if (process.env.ORG_NAME) assert.equal(name, process.env.ORG_NAME);
  assert.ok(!page.url().includes('token='), `the link's token stays in the address bar: ${page.url()}`);
  await testid('add-stream').waitFor();
});

step('alert contacts are refused with the address at fault, then saved', 'alert-contacts', async () => {
  await testid('alert-emails').fill('it@example.com\nnot an address');
  await testid('save-alert-contacts').click();
  await testid('alert-errors').locator('li').first().waitFor();
  assert.match(await testid('alert-errors').textContent(), /not an address/);
  await testid('alert-emails').fill('it@example.com\nsecops@example.com');
  await testid('save-alert-contacts').click();
  await testid('alert-saved').filter({ hasText: 'Saved.' }).waitFor();
  assert.equal(await testid('alert-errors').locator('li').count(), 0);
});

step('an HTTPS stream is added and its signing secret shown once', 'add-stream', async () => {
  await testid('add-stream').click();
  await testid('destination-GenericHttps').check();
  await testid('field-url').fill(RECEIVER_URL);
  await testid('field-format').selectOption('json');
  await testid('field-name').fill('Security data lake');
  await screenshot('portal-add-stream.png');

  // the service's field errors land next to their field
  await testid('field-url').fill('not a url');
  await testid('save-stream').click();
  await page.locator('#field-config-url-error').waitFor();
  assert.equal(await testid('field-url').getAttribute('aria-invalid'), 'true');

  await testid('field-url').fill(RECEIVER_URL);
  // a test event for the config as it stands, nothing saved: the page shows what the endpoint answered
  await testid('check-stream').click();
  const checked = testid('check-result').and(page.locator('[data-success]'));
  await checked.waitFor();
  assert.match(await checked.textContent(), /HTTP \d{3}/);

  await testid('save-stream').click();
  await testid('signing-secret').waitFor();
  const secret = (await testid('signing-secret').textContent()).trim();
  assert.match(secret, /^whsec_[A-Za-z0-9+/=]+$/);
  console.log(`SIGNING_SECRET=${secret}`);

  streamId = await testid('stream-row').getAttribute('data-stream-id');
  assert.ok(streamId, 'the new stream has no id on the page');
  assert.equal(new URL(page.url()).hash, `#/streams/${streamId}`);
});

step('a test event reaches the endpoint', 'test-result', async (t) => {
  if (!streamId) return t.skip('no stream was added');
  await row().getByTestId('send-test').click();
  const result = row().locator('[data-testid="test-result"][data-success]');
  await result.waitFor();
  const text = await result.textContent();
  assert.equal(await result.getAttribute('data-success'), 'true', text);
  assert.match(text, /HTTP 200/);
  await screenshot('portal-test-result.png');
});

step('the stream is listed, and pauses and resumes', 'streams', async (t) => {
  if (!streamId) return t.skip('no stream was added');
  await page.evaluate(() => { location.hash = '#/'; });
  await testid('add-stream').waitFor(); // the list has replaced the stream's page
  await row().waitFor();
  assert.match(await row().textContent(), /Security data lake/);
  await screenshot('portal-streams.png');

  await row().getByTestId('toggle-state').click();
  await row().locator('[data-testid="stream-state"][data-state="inactive"]').waitFor();
  await row().getByTestId('toggle-state').click();
  await row().locator('[data-testid="stream-state"][data-state="active"]').waitFor();
});

step('another organization’s stream is not found', 'not-found', async () => {
  await page.evaluate((id) => { location.hash = `#/streams/${encodeURIComponent(id)}`; }, OTHER_STREAM_ID);
  await testid('not-found').waitFor();
  assert.equal(await page.locator('[data-testid="stream-row"]').count(), 0);
});

step('without its session the page says the session expired', 'session-error', async () => {
  await context.clearCookies();
  await page.evaluate(() => { location.hash = '#/'; });
  await testid('session-error').waitFor();
  assert.match(await testid('session-error').textContent(), /expired/i);
  assert.deepEqual(pageErrors, [], 'the page threw');
});

step('an expired setup link says so', 'expired', async () => {
  await page.goto(EXPIRED_LINK);
  assert.match(await page.locator('body').innerText(), /expired/i);
  await screenshot('portal-expired.png');
});
