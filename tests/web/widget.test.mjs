// Browser tests for clients/web/widget.js against a real `trellis serve`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { startServer, launchBrowser, ARTIFACTS, ROOT } from './server.mjs';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
const DOCS_IMG = path.join(ROOT, 'docs/img');
let server, browser;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

// A page with the widget; pauses are played at 2% of their length unless told otherwise.
// Every output frame the server sends is recorded, across reconnections, to compare with the page.
async function openPage(pathname = '/', { pauseScale = 0.02, viewport = { width: 1000, height: 900 }, context } = {}) {
  const ctx = context || await browser.newContext({ viewport });
  const page = await ctx.newPage();
  await page.addInitScript((scale) => { window.TrellisWidgetOptions = { pauseScale: scale }; }, pauseScale);
  page.wire = [];
  page.on('websocket', (ws) => ws.on('framereceived', ({ payload }) => {
    try { page.wire.push(JSON.parse(payload)); } catch { /* not JSON */ }
  }));
  page.on('pageerror', (e) => { page.errors = (page.errors || []).concat(String(e)); });
  await page.goto(server.url(pathname));
  return page;
}

const W = '.trellis-widget';
const composer = (page) => page.locator(`${W} .composer`);
const messages = (page) => page.locator(`${W} .log [data-kind=message] .msg`).allTextContents();

// Waits until the turn's outputs are shown and a control is offered again.
async function settled(page) {
  await page.locator(`${W} .composer :is(form, [data-flow], .send)`).first().waitFor({ timeout: 20000 });
}
async function say(page, text) {
  await settled(page);
  const field = composer(page).locator('form :is(textarea, input)');
  await field.fill(text);
  await field.press('Enter');
}
async function press(page, label) {
  await settled(page);
  await composer(page).getByRole('button', { name: label, exact: true }).click();
}
async function startFlow(page, title) {
  await settled(page);
  await composer(page).locator('[data-flow]', { hasText: title }).click();
}
async function lastMessage(page) { const all = await messages(page); return all[all.length - 1]; }
async function shot(page, name, docs) {
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  // docs/img/ is refreshed only on request, so that a test run leaves the work tree clean.
  if (docs && process.env.TRELLIS_DOCS_IMG === '1') { mkdirSync(DOCS_IMG, { recursive: true }); copyFileSync(file, path.join(DOCS_IMG, `${name}.png`)); }
}

// Every message, safety and end frame that came over the wire is on the page exactly once.
async function assertNothingLostOrDoubled(page) {
  const shown = await page.locator(`${W} .log [data-id]`).evaluateAll((nodes) => nodes.map((n) => Number(n.dataset.id)));
  const sent = [...new Set(page.wire.filter((f) => ['message', 'safety', 'end'].includes(f.type) && f.id).map((f) => f.id))].sort((a, b) => a - b);
  assert.deepEqual(shown, sent);
}

const BRAVING_SCORES = ['8', '6', '7', '9', '7', '3', '6'];

test('the demo page lists the flows with title, description and minutes', async () => {
  const page = await openPage('/');
  const items = page.locator('#flows li');
  await items.nth(2).waitFor();
  assert.equal(await items.count(), 3);
  const text = await page.locator('#flows').innerText();
  assert.match(text, /BRAVING check-in/);
  assert.match(text, /About \d+ minutes/);
  await settled(page);
  await shot(page, 'demo-page', true);
  await page.context().close();
});

test('BRAVING check-in by clicking, with the summary as a bar chart', async () => {
  const page = await openPage('/');
  await page.locator('#flows button', { hasText: 'Start' }).first().waitFor();
  await page.getByRole('button', { name: 'Start BRAVING check-in' }).click();
  await press(page, 'Yes');
  for (const score of BRAVING_SCORES) await press(page, score);
  await say(page, 'Asking for a quiet evening without apologising');
  const summary = page.locator(`${W} [data-kind=summary]`);
  await summary.waitFor();
  assert.equal(await summary.locator('.bar').count(), 7);
  assert.match(await summary.locator('.bars').getAttribute('aria-label'), /Boundaries 8, Reliability 6.*Generosity 6/);
  assert.match((await messages(page)).join('\n'), /46 out of 70/);
  await settled(page); // the flow picker is offered again
  await summary.scrollIntoViewIfNeeded();
  await shot(page, 'braving-summary', true);
  await assertNothingLostOrDoubled(page);
  await page.context().close();
});

test('self-compassion break by clicking and typing, with its pauses', async () => {
  const page = await openPage('/');
  await startFlow(page, 'Self-compassion');
  await press(page, '7');
  await say(page, 'Work has been relentless and I snapped at my kids');
  await press(page, 'May I be kind to myself');
  await press(page, '4');
  await page.locator(`${W} [data-kind=summary]`).waitFor();
  assert.match((await messages(page)).join('\n'), /from 7 to 4/);
  await assertNothingLostOrDoubled(page);
  await page.context().close();
});

test('TRUST: a typing indicator that can be skipped, and an injection attempt shown as text', async () => {
  const page = await openPage('/', { pauseScale: 1 });
  const attack = '<img src=x onerror="window.__pwned=1">';
  await startFlow(page, 'TRUST');
  await say(page, attack);
  for (const answer of ['Because I am scared', 'That I will never get another chance', 'A careful choice',
    'I am tired', 'My family gets more of me', 'That I am not ambitious', 'I said no for good reasons']) await say(page, answer);
  await press(page, 'Yes');
  const typing = page.locator(`${W} [data-kind=typing]`);
  await typing.waitFor({ timeout: 20000 });
  await shot(page, 'typing-indicator');
  await typing.getByRole('button', { name: 'Skip' }).click();
  await press(page, 'Talk it over with someone I trust');
  await page.locator(`${W} [data-kind=summary]`).waitFor();
  const all = (await messages(page)).join('\n');
  assert.ok(all.includes(attack.toLowerCase()) || all.includes(attack), 'the played-back answer is shown as typed');
  assert.equal(await page.locator(`${W} .log img`).count(), 0);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.deepEqual(page.errors || [], []);
  await assertNothingLostOrDoubled(page);
  await page.context().close();
});

test('an answer that cannot be read is asked again', async () => {
  const page = await openPage('/');
  await startFlow(page, 'BRAVING');
  await press(page, 'Yes');
  await say(page, 'banana');
  await settled(page);
  assert.match(await lastMessage(page), /number from 1 to 10/i);
  assert.equal(await composer(page).locator('.scale .choice').count(), 10);
  await press(page, '7');
  await settled(page);
  assert.match((await messages(page)).join('\n'), /reliability/i);
  await page.context().close();
});

test('a crisis message shows the safety card, and the exercise can continue', async () => {
  const page = await openPage('/');
  await startFlow(page, 'BRAVING');
  await press(page, 'Yes');
  await say(page, 'I want to kill myself');
  const card = page.locator(`${W} [data-kind=safety]`);
  await card.waitFor();
  await settled(page);
  assert.ok(await card.locator('a[href^="tel:"]').count() >= 1, 'a tel: link');
  assert.equal(await card.getByRole('heading').count(), 1);
  const choices = composer(page).locator('[data-choice^=safety_]');
  assert.ok(await choices.count() >= 2);
  await page.keyboard.press('Escape'); // nothing dismisses the card by accident
  assert.ok(await card.isVisible());
  await shot(page, 'safety-card', true);
  await press(page, 'Continue the exercise');
  await settled(page);
  assert.equal(await composer(page).locator('.scale .choice').count(), 10);
  assert.ok(await card.isVisible(), 'the resources stay in the conversation');
  await page.context().close();
});

test('reload mid-flow, then continue with nothing shown twice', async () => {
  const page = await openPage('/');
  await startFlow(page, 'BRAVING');
  await press(page, 'Yes');
  await press(page, '8');
  await settled(page);
  const before = await messages(page);
  await page.reload();
  await settled(page);
  assert.deepEqual(await messages(page), before);
  assert.deepEqual(await page.locator(`${W} .log .user .msg`).allTextContents(), ['Yes', '8']);
  for (const score of BRAVING_SCORES.slice(1)) await press(page, score);
  await say(page, 'Rest');
  await page.locator(`${W} [data-kind=summary]`).waitFor();
  const all = await messages(page);
  assert.equal(all.filter((m) => /^B is for boundaries/i.test(m)).length, 1);
  await assertNothingLostOrDoubled(page);
  await page.context().close();
});

test('server restart mid-flow: reconnects, resends the unacknowledged answer, nothing lost or doubled', async () => {
  const page = await openPage('/');
  const widget = page.locator(W);
  await startFlow(page, 'BRAVING');
  await press(page, 'Yes');
  await press(page, '8');
  await press(page, '6');
  await settled(page);
  await server.kill();
  await page.waitForFunction(() => document.querySelector('.trellis-widget').dataset.state === 'reconnecting');
  assert.match(await widget.locator('.status').innerText(), /Reconnecting/);
  await shot(page, 'reconnecting');
  await press(page, '7'); // sent while the server is down: kept and sent on reconnect
  await server.start();
  await page.waitForFunction(() => document.querySelector('.trellis-widget').dataset.state === 'connected', null, { timeout: 30000 });
  await settled(page);
  assert.match((await messages(page)).join('\n'), /V is for the vault/i);
  for (const score of BRAVING_SCORES.slice(3)) await press(page, score);
  await say(page, 'Rest');
  await page.locator(`${W} [data-kind=summary]`).waitFor();
  const all = await messages(page);
  assert.equal(all.filter((m) => /accountability/i.test(m) && /^A is/i.test(m)).length, 1);
  await assertNothingLostOrDoubled(page);
  assert.match(await page.locator(`${W} [data-kind=summary] .bars`).getAttribute('aria-label'), /Accountability 7/);
  await page.context().close();
});

test('keyboard only: the BRAVING check-in in the floating launcher', async () => {
  const page = await openPage('/bubble.html');
  const focused = () => page.evaluate(() => {
    let a = document.activeElement;
    while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
    return a ? (a.textContent || a.tagName).trim() : '';
  });
  for (let i = 0; i < 5 && (await focused()) !== 'Take a moment'; i++) await page.keyboard.press('Tab');
  assert.equal(await focused(), 'Take a moment');
  await page.keyboard.press('Enter');
  await settled(page);
  assert.equal(await focused(), 'Yes');
  await page.keyboard.press('Enter');
  for (const score of BRAVING_SCORES) {
    await settled(page);
    assert.equal(await focused(), '1', 'focus is on the scale');
    for (let i = 1; i < Number(score); i++) await page.keyboard.press('ArrowRight');
    assert.equal(await focused(), score);
    await page.keyboard.press('Enter');
  }
  await settled(page);
  await page.keyboard.type('Asking for a quiet evening');
  await page.keyboard.press('Enter');
  await page.locator(`${W} [data-kind=summary]`).waitFor();
  await shot(page, 'bubble-open', true);
  await page.keyboard.press('Escape');
  assert.equal(await page.locator(`${W} .panel`).isVisible(), false);
  assert.equal(await focused(), 'Take a moment');
  await page.context().close();
});

async function axe(page) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

test('axe-core: no serious or critical violations on the demo page and the open widget', async () => {
  const page = await openPage('/');
  await settled(page);
  assert.deepEqual(await axe(page), []);
  await startFlow(page, 'BRAVING');
  await press(page, 'Yes');
  await settled(page);
  assert.deepEqual(await axe(page), []);
  await say(page, 'I want to kill myself');
  await page.locator(`${W} [data-kind=safety]`).waitFor();
  await settled(page);
  assert.deepEqual(await axe(page), []);
  const bubble = await openPage('/bubble.html');
  await bubble.locator(`${W} .launcher`).click();
  await settled(bubble);
  assert.deepEqual(await axe(bubble), []);
  await page.context().close();
  await bubble.context().close();
});

test('usable at 320 px wide: no sideways scrolling', async () => {
  const page = await openPage('/bubble.html', { viewport: { width: 320, height: 640 } });
  await page.locator(`${W} .launcher`).click();
  await press(page, 'Yes');
  await settled(page);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page scrolls sideways by ${overflow}px`);
  const box = await page.locator(`${W} .panel`).boundingBox();
  assert.ok(box.x >= 0 && box.x + box.width <= 320);
  await shot(page, 'narrow-320', true);
  const demo = await openPage('/', { viewport: { width: 320, height: 640 } });
  await settled(demo);
  assert.ok(await demo.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth));
  await page.context().close();
  await demo.context().close();
});

test('forget this conversation clears it here and on the server', async () => {
  const page = await openPage('/');
  await startFlow(page, 'BRAVING');
  await press(page, 'Yes');
  await settled(page);
  const key = await page.evaluate(() => Object.keys(sessionStorage).find((k) => k.startsWith('trellis:')));
  const token = JSON.parse(await page.evaluate((k) => sessionStorage.getItem(k), key)).session;
  await page.locator(W).getByRole('button', { name: 'Forget this conversation' }).click();
  await page.locator(W).getByRole('button', { name: 'Delete it' }).click();
  const fresh = () => page.wire.some((f) => f.type === 'welcome' && f.session !== token && !f.resumed);
  for (let i = 0; i < 100 && !fresh(); i++) await page.waitForTimeout(100);
  assert.ok(fresh(), 'a new session was created');
  await page.waitForFunction(() => document.querySelector('.trellis-widget').dataset.state === 'connected');
  await settled(page);
  assert.equal(await page.locator(`${W} .log [data-kind=message]`).count(), 0);
  const stored = await page.evaluate((k) => sessionStorage.getItem(k), key);
  assert.ok(!stored || !stored.includes(token));
  await page.context().close();
});

test('a second tab takes the session over; the first offers "continue here"', async () => {
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
  const first = await openPage('/', { context });
  await startFlow(first, 'BRAVING');
  await press(first, 'Yes');
  await settled(first);
  // Same origin, localStorage-less: copy the session over as a second tab of the same person would have it.
  const saved = await first.evaluate(() => Object.entries(sessionStorage).filter(([k]) => k.startsWith('trellis:')));
  const second = await context.newPage();
  await second.addInitScript((entries) => { for (const [k, v] of entries) sessionStorage.setItem(k, v); window.TrellisWidgetOptions = { pauseScale: 0.02 }; }, saved);
  await second.goto(server.url('/'));
  await settled(second);
  await first.waitForFunction(() => document.querySelector('.trellis-widget').dataset.state === 'superseded');
  await press(first, 'Continue here');
  await first.waitForFunction(() => document.querySelector('.trellis-widget').dataset.state === 'connected');
  await first.locator(`${W} .composer .scale .choice`).first().waitFor();
  await second.waitForFunction(() => document.querySelector('.trellis-widget').dataset.state === 'superseded');
  await context.close();
});
