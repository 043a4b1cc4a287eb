// The page of `ucsv serve` (SPEC §8.1) in a real browser: the system's Chromium, headless,
// driven by playwright-core, against the real binary serving a fresh SQLite database.
//
// One server and one browser page go through the whole flow in order, as an administrator
// would: a wrong password, the sign-in, files that are refused (empty, not CSV), a CSV with
// bad rows previewed and marked, the good rows imported, rejects.csv and errors.csv compared
// byte for byte with what `ucsv import --rejects --errors` writes for the same file, the
// users table, the export compared with `ucsv export`, an update from file with its
// preview of changes, the recent changes with an update undone after its preview and an
// undo refused, a sign-in that stops working, narrow windows, and a 200 MB file whose
// import loses its connection half-way (the server is killed): nothing is written.
//
// It saves the preview's screenshot to docs/preview.png (shown in the README).
//
// Environment: UCSV_BIN (default: target/debug/ucsv, then target/release/ucsv),
// CHROMIUM (default: /usr/bin/chromium).
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const ROOT = path.resolve(__dirname, '..', '..');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const PASSWORD = 'first-Password-1';
const NEW_PASSWORD = 'second-Password-2';

function binary() {
  if (process.env.UCSV_BIN) return path.resolve(process.env.UCSV_BIN);
  for (const profile of ['debug', 'release']) {
    const candidate = path.join(ROOT, 'target', profile, 'ucsv');
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error('no ucsv binary: run `cargo build` first, or set UCSV_BIN');
}

const BIN = binary();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ucsv-page-'));
const DB = path.join(dir, 'ucsv.db');

/** Runs the CLI; returns { status, stdout, stderr }. */
function ucsv(args, { db = DB, input } = {}) {
  const run = spawnSync(BIN, ['--db', db, ...args], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (run.error) throw run.error;
  return run;
}

function ucsvOk(args, options) {
  const run = ucsv(args, options);
  assert.equal(run.status, 0, `ucsv ${args.join(' ')} failed:\n${run.stderr}`);
  return run;
}

/** The users of entity 1 as the CLI lists them. */
function userCount() {
  return JSON.parse(ucsvOk(['user', 'list', '--entity', '1', '--format', 'json']).stdout).total;
}

// A second entity, so that the sys_admin gets the entity picker.
const REFERENCE = `
[[entity]]
id = 2
name = "branch"

[[context]]
name = "branch"
entity = 2
type = "internal"
ranges = ["3000-3999"]
`;

// Semicolon-separated, with a quoted delimiter, quoted line breaks (the rows after them start
// later than their row number says), an unknown column, and three bad rows (one of them
// quoted, so that rejects.csv must quote as the CLI does).
const MIXED = [
  'firstname;lastname;email;ring_seconds;line_protocol;context;exten;language;userfeild',
  'Ann;Lee;ann@example.com;30;sip;default;1001;en_US;a',
  'Bob;Roe;not-an-email;31;sip;default;1002;en_US;b',
  'Cid;Poe;cid@example.com;30;sip;default;5000;fr_FR;c',
  'Dee;Fox;dee@example.com;45;sccp;default;1003;de_DE;d',
  'Eve;"Ng; Jr";eve@example.com;30;sip;default;1004;en_US;"two',
  'lines"',
  'Fay;Day;fay@example.com;30;webrtc;default;1005;fr_FR;f',
  'Gus;"O""Rr; Sr";gus@example.com;30;sip;default;1006;english;"g',
  'h"',
  '',
].join('\n');

let server;
let base;
let serverLog = '';
let browser;
let page;
const pageErrors = [];
const importRequests = [];

function startServer() {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, ['--db', DB, 'serve', '--listen', '127.0.0.1:0'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const timer = setTimeout(() => reject(new Error(`ucsv serve did not start:\n${serverLog}`)), 30000);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text) => {
      serverLog += text;
      const m = /ucsv: serving (http:\/\/\S+\/)/.exec(serverLog);
      if (m && !base) {
        clearTimeout(timer);
        base = m[1];
        resolve(child);
      }
    });
    child.on('exit', (code) => {
      if (!base) reject(new Error(`ucsv serve exited (${code}):\n${serverLog}`));
    });
  });
}

/** Clicks `selector` and returns the text of the file it downloads. */
async function download(selector) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  const saved = path.join(dir, 'download-' + file.suggestedFilename());
  await file.saveAs(saved);
  return { name: file.suggestedFilename(), text: fs.readFileSync(saved, 'utf8') };
}

/** Picks a file in the page's file input. */
async function pick(name, buffer, mimeType = 'text/csv') {
  await page.setInputFiles('#file', { name, mimeType, buffer: Buffer.from(buffer) });
}

const text = (selector) => page.locator(selector).textContent();

/** Waits for the preview of the file `name` with the counts of its check. */
async function checked(name) {
  await page.waitForFunction((n) => !document.getElementById('preview').hidden
    && document.getElementById('facts').textContent.includes(n)
    && / of [\d,]+ rows?\.$/.test(document.getElementById('counts').textContent), name);
}

before(async () => {
  ucsvOk(['account', 'add', 'admin', '--role', 'sys_admin', '--password-stdin'], { input: PASSWORD + '\n' });
  fs.writeFileSync(path.join(dir, 'branch.toml'), REFERENCE);
  ucsvOk(['reference', 'apply', path.join(dir, 'branch.toml')]);
  server = await startServer();
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  } catch (e) {
    throw new Error(`Chromium (${CHROMIUM}) cannot start: ${e.message}`);
  }
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (/Content.Security.Policy|Refused to/i.test(m.text())) pageErrors.push(m.text());
  });
  page.on('request', (r) => {
    if (r.url().includes('/1.1/users/import')) importRequests.push(r.url());
  });
});

after(async () => {
  if (browser) await browser.close();
  if (server && server.exitCode === null) server.kill('SIGTERM');
  if (!process.env.KEEP) fs.rmSync(dir, { recursive: true, force: true });
});

test('the page loads without signing in, with its security headers, nothing from outside', async () => {
  const outside = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(base) && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) outside.push(r.url());
  });
  const response = await page.goto(base);
  assert.equal(response.status(), 200);
  const headers = response.headers();
  assert.match(headers['content-security-policy'], /default-src 'none'/);
  assert.match(headers['content-security-policy'], /frame-ancestors 'none'/);
  assert.equal(headers['x-content-type-options'], 'nosniff');
  assert.equal(await page.title(), 'ucsv · users import');
  assert.ok(await page.isVisible('#sign-in-form'));
  assert.ok(await page.isHidden('#work'));
  // Every form control has a label a screen reader can read.
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select')]
    .filter((c) => c.type !== 'hidden' && c.labels.length === 0 && !c.getAttribute('aria-label'))
    .map((c) => c.id || c.name));
  assert.deepEqual(unlabelled, []);
  assert.deepEqual(outside, []);
});

test('a wrong password is refused with a clear message', async () => {
  await page.fill('#username', 'admin');
  await page.fill('#password', 'not-the-password');
  await page.press('#password', 'Enter');
  await page.waitForFunction(() => /not accepted/.test(document.getElementById('sign-in-message').textContent));
  assert.ok(await page.isHidden('#work'));
});

test('signing in with the keyboard shows the entity picker and the empty users table', async () => {
  await page.fill('#username', '');
  await page.fill('#password', '');
  await page.focus('#username');
  await page.keyboard.type('admin');
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#work:not([hidden])');
  assert.equal(await text('#who-name'), 'admin');
  // Two entities: the picker is shown, the first is chosen.
  assert.ok(await page.isVisible('#tenant'));
  assert.deepEqual(await page.$$eval('#tenant option', (o) => o.map((x) => x.value)), ['1', '2']);
  assert.equal(await page.inputValue('#tenant'), '1');
  await page.waitForFunction(() => /no users yet/.test(document.getElementById('users-caption').textContent));
  // The password is neither kept in the form nor stored anywhere.
  assert.equal(await page.inputValue('#password'), '');
  const stored = await page.evaluate(() => localStorage.length + sessionStorage.length + document.cookie.length);
  assert.equal(stored, 0);
});

test('an empty file is refused before anything is sent', async () => {
  const before = importRequests.length;
  await pick('empty.csv', '');
  await page.waitForSelector('#file-message:not([hidden])');
  assert.match(await text('#file-message'), /"empty\.csv" is empty.*Nothing was sent/s);
  assert.ok(await page.isHidden('#preview'));
  assert.equal(importRequests.length, before);
});

test('a spreadsheet or an image is refused as not CSV, before anything is sent', async () => {
  const before = importRequests.length;
  const xlsx = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(300, 7)]);
  await pick('users.xlsx', xlsx, 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
  await page.waitForFunction(() => /not a CSV file/.test(document.getElementById('file-message').textContent));
  assert.match(await text('#file-message'), /ZIP archive.*CSV UTF-8/s);
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), Buffer.alloc(100)]);
  await pick('photo.csv', png);
  await page.waitForFunction(() => /image/.test(document.getElementById('file-message').textContent));
  assert.match(await text('#file-message'), /"photo\.csv" is not a CSV file: it is an image/);
  assert.ok(await page.isHidden('#preview'));
  assert.equal(importRequests.length, before);
  assert.equal(userCount(), 0);
});

test('a header without rows, and a header the server refuses, are said on the page', async () => {
  await pick('header-only.csv', 'firstname,lastname\n');
  await checked('header-only.csv');
  assert.match(await text('#preview-caption'), /a header line and no rows/);
  assert.match(await text('#apply-hint'), /no rows: there is nothing to import/);
  await page.setInputFiles('#file', path.join(ROOT, 'fixtures', 'bad', 'duplicate_header.csv'));
  await page.waitForFunction(() => /cannot be used/.test(document.getElementById('file-message').textContent));
  assert.match(await text('#file-message'),
    /^The file cannot be used\. "duplicate_header\.csv": header: column 'firstname' appears twice .*\. Remove or rename .*\. Nothing was written\.$/);
  assert.ok(await page.isHidden('#preview'));
  assert.equal(userCount(), 0);
});

test('the preview marks every bad cell with its message, counts the rows, and shows the warnings', async () => {
  await pick('mixed.csv', MIXED);
  await checked('mixed.csv');
  assert.match(await text('#counts'), /4 good rows, ✗ 3 bad rows of 7 rows/);
  const facts = await text('#facts');
  assert.match(facts, /semicolon \(;\)/);
  assert.match(facts, /UTF-8/);
  // The unknown column is marked in the header, its warning says what was meant.
  assert.match(await text('#warning-list'), /did you mean 'userfield'/);
  assert.equal(await page.locator('#preview-table thead th.warn').textContent(), '?unknown column: userfeild');
  // Each bad cell: colour (class), a symbol and words, its message on hover.
  const bad = await page.$$eval('#preview-table tbody td.bad:not(.status)', (cells) => cells.map((c) => ({
    row: c.parentElement.cells[0].textContent, text: c.textContent, title: c.title,
  })));
  assert.deepEqual(bad.map((c) => [c.row, c.text.replace(/^⚠error: /, '')]), [
    ['2', 'not-an-email'], ['2', '31'], ['3', '5000'], ['7', 'english'],
  ]);
  assert.match(bad[0].title, /not a valid e-mail address/);
  assert.match(bad[1].title, /multiple of 5/);
  assert.match(bad[2].title, /outside the ranges/);
  assert.match(bad[3].title, /language/);
  const status = await page.$$eval('#preview-table tbody tr', (rows) => rows.map((r) => r.cells[1].textContent));
  assert.deepEqual(status, ['✓ good', '✗ 2 errors', '✗ 1 error', '✓ good', '✓ good', '✓ good', '✗ 1 error']);
  // The quoted line break and the quoted delimiter are one cell each.
  const eve = await page.$$eval('#preview-table tbody tr:nth-child(5) td', (c) => c.map((x) => x.textContent));
  assert.equal(eve[3], 'Ng; Jr');
  assert.equal(eve[10], 'two\nlines');
  // Every message is also in the list, which leads the keyboard to the cell.
  assert.equal(await page.locator('#error-list li').count(), 4);
  await page.focus('#error-list li:first-child a');
  await page.keyboard.press('Enter');
  assert.match(await page.evaluate(() => document.activeElement.id), /^cell-3-/);
  assert.match(await text('#apply-hint'), /writes nothing while 3 rows are bad/);
  fs.mkdirSync(path.join(ROOT, 'docs'), { recursive: true });
  await page.locator('#preview').screenshot({ path: path.join(ROOT, 'docs', 'preview.png') });
  assert.equal(userCount(), 0, 'a preview writes nothing');
});

test('importing the good rows writes them; rejects.csv and errors.csv are those of the CLI', async () => {
  // What `ucsv import --keep-going --rejects --errors` writes for the same file and data.
  const cliDb = path.join(dir, 'cli.db');
  ucsvOk(['reference', 'apply', path.join(dir, 'branch.toml')], { db: cliDb });
  fs.writeFileSync(path.join(dir, 'mixed.csv'), MIXED);
  const cli = ucsv(['import', path.join(dir, 'mixed.csv'), '--keep-going', '--rejects', path.join(dir, 'cli-rejects.csv'),
    '--errors', path.join(dir, 'cli-errors.csv'), '--entity', '1'], { db: cliDb });
  assert.equal(cli.status, 1, cli.stderr);

  await page.check('input[name="policy"][value="good"]');
  assert.match(await text('#apply-hint'), /4 good rows are written/);
  await page.click('#apply');
  await page.waitForSelector('#result:not([hidden])');
  await page.waitForFunction(() => /Imported/.test(document.getElementById('result-text').textContent));
  assert.match(await text('#result-text'), /Imported 4 users \(with 4 lines, 4 extensions\)\. 3 rows were rejected/);
  assert.equal(userCount(), 4);

  const rejects = await download('#download-rejects');
  assert.equal(rejects.name, 'rejects.csv');
  assert.equal(rejects.text, fs.readFileSync(path.join(dir, 'cli-rejects.csv'), 'utf8'));
  assert.match(rejects.text, /^firstname;lastname;.*\nBob;Roe;not-an-email;31;.*\nCid;.*\nGus;"O""Rr; Sr";.*english;"g\nh"\n$/s);
  const errors = await download('#download-errors');
  assert.equal(errors.name, 'errors.csv');
  assert.equal(errors.text, fs.readFileSync(path.join(dir, 'cli-errors.csv'), 'utf8'));
});

test('the users table shows the new users, searches, and pages', async () => {
  await page.waitForFunction(() => /1–4 of 4/.test(document.getElementById('users-caption').textContent));
  const names = await page.$$eval('#users-table tbody tr', (r) => r.map((x) => x.cells[0].textContent));
  assert.deepEqual(names, ['Ann', 'Dee', 'Eve', 'Fay']);
  await page.fill('#search', 'fay@');
  await page.press('#search', 'Enter');
  await page.waitForFunction(() => /matching "fay@": 1–1 of 1/.test(document.getElementById('users-caption').textContent));
  // 25 more users from the command line, then two pages of 20.
  ucsvOk(['user', 'add', '1100..1124', '--set', 'firstname=Load', '--set', 'lastname={dn}', '--entity', '1']);
  await page.fill('#search', '');
  await page.press('#search', 'Enter');
  await page.waitForFunction(() => /1–20 of 29/.test(document.getElementById('users-caption').textContent));
  assert.equal(await page.locator('#users-table tbody tr').count(), 20);
  assert.ok(await page.isDisabled('#prev'));
  await page.click('#next');
  await page.waitForFunction(() => /21–29 of 29/.test(document.getElementById('users-caption').textContent));
  assert.equal(await page.locator('#users-table tbody tr').count(), 9);
  assert.ok(await page.isDisabled('#next'));
  // Sorting by a column asks the server.
  await page.click('#users-table thead button:has-text("Last name")');
  await page.waitForFunction(() => /1–20 of 29/.test(document.getElementById('users-caption').textContent));
  assert.equal(await page.locator('#users-table tbody tr:first-child td:nth-child(2)').innerText(), '1100');
});

test('export downloads the users as ucsv export writes them', async () => {
  const exported = await download('#export');
  assert.equal(exported.name, 'users.csv');
  assert.equal(exported.text, ucsvOk(['export', '--entity', '1']).stdout);
  assert.match(await text('#users-message'), /Exported to users\.csv/);
  fs.writeFileSync(path.join(dir, 'export.csv'), exported.text);
});

test('update from file previews what each row would change, then changes it', async () => {
  // Three rows of the export: Ann gets a new lastname, Fay a new email, Dee stays.
  const lines = fs.readFileSync(path.join(dir, 'export.csv'), 'utf8').trimEnd().split('\n');
  const header = lines[0].split(',');
  const at = (name) => header.indexOf(name);
  const edit = (line, column, value) => {
    const cells = line.split(',');
    cells[at(column)] = value;
    return cells.join(',');
  };
  const row = (first) => lines.find((l) => l.split(',')[at('firstname')] === first);
  const csv = [lines[0], edit(row('Ann'), 'lastname', 'Lee-Smith'), row('Dee'),
    edit(row('Fay'), 'email', 'fay.day@example.com')].join('\n') + '\n';
  assert.ok(!csv.includes('"'), 'the rows chosen need no quoting');

  await page.check('input[name="action"][value="update"]');
  await pick('changes.csv', csv);
  await checked('changes.csv');
  await page.check('input[name="policy"][value="all"]');
  assert.match(await text('#counts'), /2 rows would change a user, 1 row would change nothing, 0 bad rows of 3 rows/);
  const status = await page.$$eval('#preview-table tbody tr', (rows) => rows.map((r) => r.cells[1].textContent));
  assert.deepEqual(status, ['✎ changes lastname', '= no change', '✎ changes email']);
  const changed = await page.$$eval('#preview-table tbody td.changed:not(.status)', (c) => c.map((x) => x.textContent));
  assert.deepEqual(changed, ['✎changes to: Lee-Smith', '✎changes to: fay.day@example.com']);
  assert.equal(await text('#apply'), 'Update users');
  await page.click('#apply');
  await page.waitForFunction(() => /Updated/.test(document.getElementById('result-text').textContent));
  assert.match(await text('#result-text'), /Updated 2 users; 1 row changed nothing\./);
  assert.ok(await page.isHidden('#downloads'));
  const ann = JSON.parse(ucsvOk(['user', 'show', 'ann@example.com', '--format', 'json']).stdout);
  assert.equal((Array.isArray(ann) ? ann[0] : ann).lastname, 'Lee-Smith');
  await page.check('input[name="action"][value="import"]');
});

test('recent changes list every write; an undo is previewed, then takes the update back', async () => {
  // The page's import (batch 1), the CLI's `user add` (2) and the page's update (3).
  await page.click('#batches-refresh');
  await page.waitForFunction(() => document.querySelectorAll('#batches-table tbody tr').length >= 3);
  const rows = await page.$$eval('#batches-table tbody tr', (r) => r.map((x) => [...x.cells].slice(0, 7).map((c) => c.textContent)));
  assert.deepEqual(rows.map((r) => [r[0], r[2], r[5], r[6]]), [
    ['#3', 'update', '2 updated', 'in effect'],
    ['#2', 'user add', '25 created', 'in effect'],
    ['#1', 'import', '4 created', 'in effect'],
  ]);
  assert.equal(rows[0][3], 'admin');
  assert.equal(rows[0][4], 'changes.csv');
  const lastname = () => {
    const ann = JSON.parse(ucsvOk(['user', 'show', 'ann@example.com', '--format', 'json']).stdout);
    return (Array.isArray(ann) ? ann[0] : ann).lastname;
  };
  assert.equal(lastname(), 'Lee-Smith');

  // The preview writes nothing; keeping the batch closes it.
  await page.click('#batches-table tr[data-batch="3"] button.undo');
  await page.waitForSelector('#undo-preview:not([hidden])');
  assert.equal(await text('#undo-text'), 'Undoing batch #3 would set 2 users back as they were before it, in one transaction.');
  assert.equal(lastname(), 'Lee-Smith');
  await page.click('#undo-cancel');
  assert.ok(await page.isHidden('#undo-preview'));

  await page.click('#batches-table tr[data-batch="3"] button.undo');
  await page.waitForSelector('#undo-preview:not([hidden])');
  await page.click('#undo-confirm');
  await page.waitForFunction(() => /was undone|Nothing was written/.test(document.getElementById('batches-message').textContent));
  assert.equal(await text('#batches-message'),
    'Batch #3 was undone: set 2 users back as they were before it. The undo is batch #4, and can itself be undone.');
  assert.equal(lastname(), 'Lee');
  await page.waitForFunction(() => /undone by #4/.test(document.querySelector('#batches-table tr[data-batch="3"]').textContent));
  assert.equal(await page.locator('#batches-table tr[data-batch="3"] button.undo').count(), 0);
  assert.match(await text('#batches-table tr[data-batch="4"]'), /undo.*2 updated.*undoes #3/);

  // A user of the page's import changed since on the command line (batch 5): its undo is
  // refused, naming that batch, and nothing is written.
  ucsvOk(['user', 'set', 'fay@example.com', '--set', 'lastname=Later']);
  await page.click('#batches-refresh');
  await page.waitForSelector('#batches-table tr[data-batch="5"]');
  await page.click('#batches-table tr[data-batch="1"] button.undo');
  await page.waitForFunction(() => /cannot be undone/.test(document.getElementById('batches-message').textContent));
  assert.match(await text('#batches-message'), /^Batch #1 cannot be undone\. Later batches changed the same users: batch 5 /);
  assert.ok(await page.isHidden('#undo-preview'));
  assert.equal(userCount(), 29);
});

test('a sign-in that stops working (password changed) says so, and signing in again goes on', async () => {
  ucsvOk(['account', 'set-password', 'admin'], { input: NEW_PASSWORD + '\n' });
  await page.click('#search-form button');
  await page.waitForSelector('#sign-in:not([hidden])');
  assert.match(await text('#sign-in-message'), /no longer accepted/);
  assert.ok(await page.isHidden('#work'));
  await page.fill('#username', 'admin');
  await page.fill('#password', NEW_PASSWORD);
  await page.click('#sign-in-button');
  await page.waitForSelector('#work:not([hidden])');
  await page.waitForFunction(() => /of 29/.test(document.getElementById('users-caption').textContent));
});

test('the page fits a narrow window and 1280x800 without sideways scrolling', async () => {
  await page.check('input[name="action"][value="import"]');
  for (const [width, height] of [[1280, 800], [400, 800]]) {
    await page.setViewportSize({ width, height });
    await pick('mixed.csv', MIXED);
    await checked('mixed.csv');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    const wide = await page.evaluate(() => [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1 && !e.closest('.table-wrap'))
      .map((e) => e.tagName + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : '')).slice(0, 10));
    assert.ok(overflow <= 0, `${width}px wide: the page is ${overflow}px too wide: ${wide.join(' ')}`);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
});

test('a Windows-1252 file (as Excel writes CSV) is detected, shown and checked as such', async () => {
  await page.check('input[name="action"][value="import"]');
  await page.setInputFiles('#file', path.join(ROOT, 'fixtures', 'encodings', 'windows1252_semicolon.csv'));
  await checked('windows1252_semicolon.csv');
  assert.match(await text('#facts'), /Windows-1252 \(detected: the file is not UTF-8\)/);
  assert.match(await text('#file-message'), /not UTF-8/);
  const first = await page.$$eval('#preview-table tbody tr:first-child td', (c) => c.map((x) => x.textContent));
  assert.deepEqual(first.slice(2), ['François', 'Lefèvre', 'Œuvre à café']);
  assert.match(await text('#counts'), /2 good rows, 0 bad rows of 2 rows/);
});

test('a viewer sees the users but is offered no import and no export', async () => {
  ucsvOk(['account', 'add', 'watcher', '--tenant', '1=viewer', '--password-stdin'], { input: PASSWORD + '\n' });
  await page.click('#sign-out');
  assert.match(await text('#sign-in-message'), /Signed out/);
  await page.fill('#username', 'watcher');
  await page.fill('#password', PASSWORD);
  await page.click('#sign-in-button');
  await page.waitForSelector('#work:not([hidden])');
  assert.match(await text('#role-message'), /viewer: you can look at its users, not import/);
  assert.ok(await page.isHidden('#file-section'));
  assert.ok(await page.isDisabled('#export'));
  assert.ok(await page.isHidden('#tenant'), 'one entity: no picker');
  await page.waitForFunction(() => /of 29/.test(document.getElementById('users-caption').textContent));
  // The history of its entity, without an undo.
  await page.waitForFunction(() => document.querySelectorAll('#batches-table tbody tr').length === 5);
  assert.equal(await page.locator('#batches-table button.undo').count(), 0);
  await page.click('#sign-out');
  await page.fill('#username', 'admin');
  await page.fill('#password', NEW_PASSWORD);
  await page.click('#sign-in-button');
  await page.waitForSelector('#work:not([hidden])');
  assert.ok(await page.isVisible('#file-section'));
});

test('a 200 MB file previews at once; a connection lost mid-import writes nothing', async () => {
  // About 200 MB of good rows (no lines: the default context has 1,000 numbers).
  const big = path.join(dir, 'big.csv');
  const out = fs.openSync(big, 'w');
  const pad = 'x'.repeat(120);
  let chunk = 'firstname,lastname,email,userfield\n';
  let rows = 0;
  while (fs.fstatSync(out).size < 200 * 1024 * 1024) {
    for (let i = 0; i < 10000; i++, rows++) chunk += `Big${rows},Row${rows},big${rows}@example.com,${pad}\n`;
    fs.writeSync(out, chunk);
    chunk = '';
  }
  fs.closeSync(out);
  const users = userCount();
  await page.check('input[name="action"][value="import"]');

  const started = Date.now();
  await page.setInputFiles('#file', big);
  await page.waitForFunction(() => document.querySelectorAll('#preview-table tbody tr').length === 100);
  const shown = Date.now() - started;
  assert.ok(shown < 5000, `the preview of a 200 MB file took ${shown} ms`);
  assert.match(await text('#preview-caption'), /reads only the start of the file/);
  // The page answers while the check streams the file to the server.
  await page.waitForFunction(() => document.getElementById('check-bar').value > 0);
  const t = Date.now();
  await page.evaluate(() => document.title);
  assert.ok(Date.now() - t < 1000, 'the page stays responsive');

  await page.check('input[name="policy"][value="good"]');
  await page.click('#apply');
  await page.waitForFunction(() => document.getElementById('apply-bar').value >= 2);
  server.kill('SIGKILL');
  await page.waitForFunction(() => /connection to the server was lost/.test(document.getElementById('result-text').textContent),
    null, { timeout: 30000 });
  assert.match(await text('#result-text'), /nothing was written/);
  assert.equal(userCount(), users, 'the killed import wrote nothing');
});

test('no script error and no content-security-policy violation in the whole run', () => {
  assert.deepEqual(pageErrors, []);
});
