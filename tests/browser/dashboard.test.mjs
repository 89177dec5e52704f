// Renders the dashboard of a real `triage run` in headless Chromium and checks what a
// Head of Customer Success relies on: it loads without console errors, shows every
// section, sorts and filters the ticket table, never runs ticket text as code, and
// shows an outage reported by several accounts as one incident on a timeline.
//
// TRIAGE_BIN (default target/debug/triage) and CHROMIUM (default /usr/bin/chromium)
// may be set; SCREENSHOT=path keeps a full-page screenshot.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '..', '..');
const bin = process.env.TRIAGE_BIN ?? join(root, 'target', 'debug', 'triage');
const work = mkdtempSync(join(tmpdir(), 'triage-dashboard-'));

let browser;
let page;
const problems = [];

before(async () => {
  // The sample tickets plus one whose every field tries to inject markup.
  const sample = readFileSync(join(root, 'data', 'tickets_input.csv'), 'utf8').trimEnd();
  const hostile =
    '#9999,"<img src=x onerror=window.__xss=3>","<script>window.__xss=1</script> Checkout down",' +
    '"Checkout is down for everyone </td></tr><script>window.__xss=2</script>",P0,email,2025-11-17 18:00,900';
  // A ticket in words the engine has never seen: it must be flagged for review.
  const unreadable = '#9998,Zorblax,Qwfp zxcv,"Vrabl snik tovarp glim, brundel fusk quorp yimble dazzit plonk?",P3,chat,2025-11-17 18:05,300';
  const input = join(work, 'tickets.csv');
  writeFileSync(input, `${sample}\n${hostile}\n${unreadable}\n`);
  execFileSync(bin, ['run', '--input', input, '--out', join(work, 'out'), '--demo-mode', '--quiet'], {
    cwd: root,
    stdio: 'inherit',
  });

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('request', (req) => {
    if (!req.url().startsWith('file:')) problems.push(`network request: ${req.url()}`);
  });
  await page.goto(pathToFileURL(join(work, 'out', 'triage_report.html')).href);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 10000 });
});

after(async () => {
  if (page && process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
  await browser?.close();
});

test('loads offline without console errors', () => {
  assert.deepEqual(problems, []);
});

test('shows the KPI tiles with the run numbers', async () => {
  const tiles = await page.$$eval('#kpis .kpi', (els) =>
    els.map((e) => [e.querySelector('.l').textContent, e.querySelector('.v').textContent]),
  );
  assert.deepEqual(
    tiles.map(([l]) => l),
    [
      'Tickets',
      'Auto-resolution rate',
      'Guardian alerts',
      'Opportunity signals',
      'Incidents',
      'SLA at risk / breached',
      'Needs review',
      'Avg processing time',
    ],
  );
  assert.equal(tiles[0][1], '32');
  const metrics = JSON.parse(readFileSync(join(work, 'out', 'metrics_summary.json'), 'utf8'));
  assert.equal(tiles[2][1], String(metrics.guardian_alerts));
  assert.equal(tiles[3][1], String(metrics.opportunity_signals));
  assert.equal(tiles[4][1], String(metrics.incidents.declared));
  assert.equal(tiles[5][1], `${metrics.sla.at_risk} / ${metrics.sla.breached}`);
  assert.equal(tiles[6][1], String(metrics.needs_review));
});

test('lists the decisions that need a person, possible fires first', async () => {
  const metrics = JSON.parse(readFileSync(join(work, 'out', 'metrics_summary.json'), 'utf8'));
  const cards = page.locator('#needs-review .review-card');
  assert.ok(metrics.needs_review >= 1);
  assert.equal(await cards.count(), metrics.needs_review);
  assert.equal(await page.locator('#needs-review .review-card', { hasText: '#9998' }).count(), 1);
  const fires = await page.$$eval('#needs-review .review-card', (els) => els.map((e) => e.classList.contains('fire')));
  assert.deepEqual(fires, [...fires].sort((a, b) => Number(b) - Number(a)), 'possible fires come first');
  await page.selectOption('#filter-flag', 'review');
  const flagged = await page.$$eval('#tickets tbody tr:not([hidden])', (trs) => trs.map((tr) => tr.dataset.review));
  assert.equal(flagged.length, metrics.needs_review);
  assert.ok(flagged.every((f) => f === '1'));
  await page.selectOption('#filter-flag', '');
});

test('draws the reliability of the confidence when labels are present', async () => {
  const metrics = JSON.parse(readFileSync(join(work, 'out', 'metrics_summary.json'), 'utf8'));
  const bins = metrics.agreement.reliability.filter((b) => b.tickets > 0).length;
  assert.ok(bins >= 2);
  assert.equal(await page.locator('#reliability svg rect.reliability-bar').count(), bins);
  const heading = await page.textContent('#reliability h3');
  assert.ok(heading.includes(metrics.agreement.expected_calibration_error.toFixed(3)), heading);
  const box = await page.locator('#reliability svg').boundingBox();
  assert.ok(box.width > 200 && box.height > 150, 'plot is visible');
  assert.ok((await page.textContent('#fires')).includes('P0 recall'));
});

test('draws the priority mix against targets and the team split', async () => {
  assert.equal(await page.locator('#priority-mix svg rect.bar').count(), 4);
  assert.equal(await page.locator('#priority-mix svg rect.target').count(), 4);
  assert.equal(await page.locator('#team-split svg rect.team-bar').count(), 3);
  const box = await page.locator('#priority-mix svg').boundingBox();
  assert.ok(box.width > 300 && box.height > 100, 'chart is visible');
});

test('lists Guardian alerts highest risk first, with actions', async () => {
  const scores = await page.$$eval('#guardian .alert-card h3 .risk', (els) => els.map((e) => parseInt(e.textContent, 10)));
  assert.ok(scores.length > 0);
  assert.deepEqual(scores, [...scores].sort((a, b) => b - a));
  assert.ok((await page.locator('#guardian .alert-card ol li').count()) >= scores.length);
});

test('lists Opportunity signals and label agreement', async () => {
  assert.ok((await page.locator('#opportunities tbody tr').count()) > 0);
  assert.equal(await page.locator('#confusion tbody tr').count(), 5);
});

test('sorts and filters the ticket table', async () => {
  const rows = page.locator('#tickets tbody tr');
  assert.equal(await rows.count(), 32);
  const riskHeader = page.locator('#tickets thead th', { hasText: 'Risk' });
  await riskHeader.click();
  const ascending = await page.$$eval('#tickets tbody tr', (trs) => trs.map((tr) => parseInt(tr.cells[9].dataset.sort, 10)));
  assert.deepEqual(ascending, [...ascending].sort((a, b) => a - b));
  await riskHeader.click();
  const descending = await page.$$eval('#tickets tbody tr', (trs) => trs.map((tr) => parseInt(tr.cells[9].dataset.sort, 10)));
  assert.deepEqual(descending, [...ascending].reverse());

  await page.selectOption('#filter-priority', 'P0');
  const shownP0 = await page.$$eval('#tickets tbody tr:not([hidden])', (trs) => trs.map((tr) => tr.dataset.priority));
  assert.ok(shownP0.length > 0 && shownP0.every((p) => p === 'P0'));
  assert.equal(await page.textContent('#shown'), String(shownP0.length));
  await page.selectOption('#filter-priority', '');

  await page.fill('#filter-text', 'Nordlicht');
  const visible = await page.$$eval('#tickets tbody tr:not([hidden])', (trs) => trs.map((tr) => tr.textContent));
  assert.ok(visible.length >= 1 && visible.length < 32);
  assert.ok(visible.every((t) => t.includes('Nordlicht')));
  await page.fill('#filter-text', '');
  assert.equal(await page.locator('#tickets tbody tr:not([hidden])').count(), 32);
});

test('shows ticket text as text and never runs it', async () => {
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  const row = page.locator('#tickets tbody tr', { hasText: '#9999' });
  assert.equal(await row.count(), 1);
  assert.ok((await row.locator('td.subject').textContent()).includes('<script>window.__xss=1</script>'));
  assert.equal(await page.locator('img').count(), 0);
});

test('shows an outage as one incident with its members on a timeline', async () => {
  const rows = [
    ['5001', 'Harbor Goods', '2025-11-03T09:00:00Z', 'Invoice copy', 'Could you send a copy of the October invoice?'],
    ['5002', 'Kiln Coffee', '2025-11-03T09:02:00Z', 'Orders slow to sync', 'Hi, our Shopify orders seem slow to sync since 9am, about 40 orders are missing in the app.'],
    ['5003', 'Fjord Outdoor', '2025-11-03T09:05:00Z', 'order sync delayed', 'hey, orders from shopify are syncing really slowly today, new orders missing'],
    ['5005', 'Iris Studio', '2025-11-03T09:09:00Z', 'Shopify orders not syncing', 'Hello, new Shopify orders are not syncing to your dashboard, the last order synced an hour ago.'],
    ['5006', 'Cedar Home', '2025-11-03T09:15:00Z', 'Sync delay on orders', 'Our orders from Shopify are delayed, the sync seems stuck and orders are missing.'],
  ];
  const csv = ['ticket_id,customer_name,timestamp,subject,description,mrr']
    .concat(rows.map((r) => `${r[0]},${r[1]},${r[2]},${r[3]},"${r[4]}",2000`))
    .join('\n');
  const input = join(work, 'outage.csv');
  writeFileSync(input, `${csv}\n`);
  const out = join(work, 'outage-out');
  execFileSync(bin, ['run', '--input', input, '--out', out, '--demo-mode', '--quiet'], { cwd: root, stdio: 'inherit' });
  const metrics = JSON.parse(readFileSync(join(out, 'metrics_summary.json'), 'utf8'));
  assert.equal(metrics.incidents.declared, 1);
  const other = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  const errors = [];
  other.on('pageerror', (err) => errors.push(err.message));
  await other.goto(pathToFileURL(join(out, 'triage_report.html')).href);
  await other.waitForSelector('body[data-ready="1"]', { timeout: 10000 });
  const cards = other.locator('#incidents .incident');
  assert.equal(await cards.count(), 1);
  const dots = await other.$$eval('#incidents .incident svg circle', (els) =>
    els.map((e) => [Number(e.getAttribute('cx')), e.classList.contains('declared')]),
  );
  assert.equal(dots.length, metrics.incidents.members);
  assert.equal(dots.filter(([, declared]) => declared).length, 1, 'the declaring ticket is marked');
  const xs = dots.map(([x]) => x);
  assert.deepEqual(xs, [...xs].sort((a, b) => a - b), 'members in order of arrival');
  assert.ok(xs[0] < xs[xs.length - 1], 'spread over time');
  await other.selectOption('#filter-flag', 'incident');
  const shown = await other.$$eval('#tickets tbody tr:not([hidden])', (trs) => trs.length);
  assert.equal(shown, metrics.incidents.members);
  assert.deepEqual(errors, []);
  await other.close();
});
