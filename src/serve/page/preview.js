// The preview of a picked file: its facts, the counts of good and bad rows, the first rows
// with every bad cell and every change of an update marked (from the dry run's report),
// the lists of errors and warnings, and the hint beside the Import button. Also what the
// form's choices say (the action, the policy for bad rows).

import { $, el, plural, size, sym } from './dom.js';
import { state } from './state.js';
import { DELIMITER_NAMES } from './csv.js';

export const CHECK_LIMIT = 1000; // report_limit of the dry run: enough to mark the preview
const SHOWN_ISSUES = 500; // errors or warnings listed in the page

export function action() {
  return document.querySelector('input[name="action"]:checked').value;
}

export function policy() {
  return document.querySelector('input[name="policy"]:checked').value;
}

const norm = (name) => String(name).replace(/^\uFEFF/, '').trim().toLowerCase();

/** Entries of a report's list by the line their row starts on. */
function byLine(list) {
  const map = new Map();
  for (const entry of list || []) {
    if (!map.has(entry.line)) map.set(entry.line, []);
    map.get(entry.line).push(entry);
  }
  return map;
}

export function renderPreview() {
  const head = state.head;
  const report = state.check;
  const update = action() === 'update';
  const file = state.file;
  $('preview').hidden = false;
  $('apply').textContent = update ? 'Update users' : 'Import';
  $('preview-title').textContent = update ? 'Preview: what each row would change' : 'Preview';

  const facts = [
    ['File', `${file.name} (${size(file.size)})`],
    ['Encoding', state.encoding.shown],
    ['Delimiter', (report ? '' : 'guessed: ') + (DELIMITER_NAMES[head.delimiter] || head.delimiter)],
    ['Rows', report ? report.rows.toLocaleString('en') : 'being counted…'],
  ];
  $('facts').replaceChildren(...facts.map(([k, v]) => el('div', {}, el('dt', { text: k }), el('dd', { text: v }))));

  // The counts.
  const counts = $('counts');
  if (report) {
    const bad = report.summary.rejected;
    const parts = [];
    if (update) {
      const changed = report.summary.updated.users || 0;
      const same = report.summary.updated.unchanged || 0;
      parts.push(el('span', { class: 'good' }, sym('✎', ''), ` ${plural(changed, 'row')} would change a user`), ', ',
        `${plural(same, 'row')} would change nothing`);
    } else {
      parts.push(el('span', { class: 'good' }, sym('✓', ''), ` ${plural(report.rows - bad, 'good row')}`));
    }
    parts.push(', ', el('span', { class: bad ? 'bad' : '' }, bad ? [sym('✗', ''), ' '] : '', plural(bad, 'bad row')));
    parts.push(` of ${plural(report.rows, 'row')}.`);
    counts.replaceChildren(...parts);
  } else {
    counts.textContent = 'The rows are being checked on the server; the table is marked when the check ends.';
  }

  // Header: unknown columns from the warnings.
  const header = head.header;
  const unknown = new Map();
  const warnings = report ? report.warnings : [];
  for (const w of warnings) {
    if (w.row_number === null && w.column) unknown.set(norm(w.column), w.message);
  }
  const width = Math.max(header.length, ...head.rows.map((r) => r.cells.length));
  const headRow = el('tr', {}, el('th', { class: 'num', scope: 'col', text: 'Row' }),
    el('th', { scope: 'col', text: 'Status' }));
  for (let i = 0; i < width; i++) {
    const name = i < header.length ? header[i] : '';
    const th = el('th', { scope: 'col' });
    const message = unknown.get(norm(name));
    if (message) {
      th.className = 'warn';
      th.title = message;
      th.append(...sym('?', 'unknown column: '));
    }
    th.append(name);
    headRow.append(th);
  }
  $('preview-table').tHead.replaceChildren(headRow);

  const column = new Map(header.map((name, i) => [norm(name), i]));
  const errors = byLine(report && report.errors);
  const created = byLine(report && report.created);
  const updated = byLine(report && report.updated);
  const rowWarnings = byLine(warnings.filter((w) => w.row_number !== null));
  // The last line the report's lists cover entirely (they keep the first rows only).
  const covered = report ? coveredLine(report) : 0;

  const body = [];
  for (const row of head.rows) {
    const tr = el('tr', {}, el('td', { class: 'num', text: String(row.row) }));
    const status = el('td', { class: 'status' });
    tr.append(status);
    const rowErrors = errors.get(row.line) || [];
    const cellErrors = new Map();
    const rowLevel = [];
    for (const e of rowErrors) {
      const i = e.column === null ? undefined : column.get(norm(e.column));
      if (i === undefined) rowLevel.push(e);
      else {
        if (!cellErrors.has(i)) cellErrors.set(i, []);
        cellErrors.get(i).push(e);
      }
    }
    const change = (updated.get(row.line) || [])[0];
    const changedCols = new Set(change ? change.changed.map((c) => column.get(norm(c))) : []);
    for (let i = 0; i < width; i++) {
      const value = i < row.cells.length ? row.cells[i] : '';
      const td = el('td', { id: `cell-${row.line}-${i}`, tabIndex: -1 });
      if (value.length > 40) td.classList.add('long');
      const bad = cellErrors.get(i);
      if (bad) {
        td.classList.add('bad');
        td.title = bad.map((e) => e.message).join('\n');
        td.append(...sym('⚠', 'error: '));
      } else if (changedCols.has(i)) {
        td.classList.add('changed');
        td.title = `${header[i]} would change to this value`;
        td.append(...sym('✎', 'changes to: '));
      } else if (value.length > 40) {
        td.title = value;
      }
      // An empty bad cell says so: a marker alone would point at nothing.
      td.append(bad && value === '' ? el('span', { class: 'empty', text: '(empty)' }) : value);
      tr.append(td);
    }
    // The row's status: colour, symbol and words.
    const warned = rowWarnings.get(row.line) || [];
    if (!report) {
      status.append('…');
    } else if (rowErrors.length) {
      status.classList.add('bad');
      status.title = rowErrors.map((e) => (e.column ? e.column + ': ' : '') + e.message).join('\n');
      status.append(...sym('✗', ''), ` ${plural(rowErrors.length, 'error')}`);
      if (rowLevel.length) status.append(': ' + rowLevel.map((e) => e.message).join('; '));
    } else if (change) {
      status.classList.add('changed');
      const what = change.changed.length ? change.changed.join(', ') : 'nothing';
      status.append(...sym('✎', ''), ` changes ${what}`);
      if (change.created && change.created.length) status.append(`; adds ${change.created.join(', ')}`);
    } else if (created.get(row.line)) {
      status.classList.add('ok');
      status.append(...sym('✓', ''), ' good');
    } else if (warned.some((w) => w.code === 'row.empty')) {
      status.classList.add('same');
      status.append('– empty, skipped');
    } else if (row.line <= covered) {
      status.classList.add(update ? 'same' : 'ok');
      status.append(update ? '= no change' : '✓ good');
    }
    if (warned.length) {
      status.title = (status.title ? status.title + '\n' : '') + warned.map((w) => w.message).join('\n');
      if (!warned.some((w) => w.code === 'row.empty')) status.append(' (warning)');
    }
    body.push(tr);
  }
  $('preview-table').tBodies[0].replaceChildren(...body);
  const shown = head.rows.length;
  $('preview-caption').textContent = shown === 0
    ? 'The file has a header line and no rows.'
    : `The first ${plural(shown, 'row')} of the file` + (head.more ? ' (the preview reads only the start of the file)' : '') + '.';

  renderIssues(report);
  setApplyHint();
}

/** The last line whose outcome the report's lists show (they hold the first rows only). */
function coveredLine(report) {
  const lists = [report.created, report.updated, report.errors];
  const capped = report.rows > CHECK_LIMIT;
  if (!capped) return Infinity;
  let last = Infinity;
  for (const list of lists) {
    if (list.length >= CHECK_LIMIT) last = Math.min(last, list[list.length - 1].line);
  }
  return last;
}

function issueItem(issue, linkable) {
  const where = issue.row_number === null || issue.row_number === undefined
    ? `Header (line ${issue.line})` : `Row ${issue.row_number} (line ${issue.line})`;
  const item = el('li', {});
  const cell = linkable && issue.column !== null
    ? document.getElementById(`cell-${issue.line}-${columnIndex(issue.column)}`) : null;
  if (cell) {
    const a = el('a', { href: '#' + cell.id, text: where });
    a.addEventListener('click', (e) => {
      e.preventDefault();
      cell.focus();
      cell.scrollIntoView({ block: 'nearest', inline: 'center' });
    });
    item.append(a);
  } else {
    item.append(where);
  }
  if (issue.column) item.append(', ', el('strong', { text: issue.column }));
  item.append(': ' + issue.message + ' ', el('code', { text: issue.code }));
  return item;
}

function columnIndex(name) {
  const i = state.head.header.findIndex((h) => norm(h) === norm(name));
  return i < 0 ? 'none' : i;
}

function renderIssues(report) {
  const warnings = report ? report.warnings : [];
  $('warnings').hidden = warnings.length === 0;
  $('warning-list').replaceChildren(...warnings.slice(0, SHOWN_ISSUES).map((w) => issueItem(w, false)));
  const errors = report ? report.errors : [];
  $('errors').hidden = errors.length === 0;
  $('errors-title').textContent = report ? `Errors (${plural(report.summary.rejected, 'bad row')})` : 'Errors';
  $('error-list').replaceChildren(...errors.slice(0, SHOWN_ISSUES).map((e) => issueItem(e, true)));
  const listedRows = new Set(errors.map((e) => e.row_number)).size;
  const more = report && (errors.length > SHOWN_ISSUES || listedRows < report.summary.rejected);
  $('errors-more').hidden = !more;
  if (more) {
    $('errors-more').textContent = `Listed: the errors of the first ${plural(Math.min(listedRows, SHOWN_ISSUES), 'bad row')}. `
      + 'After an import, errors.csv holds the others.';
  }
}

export function setApplyHint() {
  const report = state.check;
  const update = action() === 'update';
  const verb = update ? 'update' : 'import';
  let text;
  if (!report) {
    text = state.checkXhr ? `You may ${verb} before the check ends: the ${verb} checks every row as it writes.` : '';
  } else if (report.rows === 0) {
    text = 'The file has no rows: there is nothing to ' + verb + '.';
  } else if (report.summary.rejected === 0) {
    text = `Every row is good: the ${verb} writes them all.`;
  } else if (policy() === 'all') {
    text = `With "All or nothing", this file writes nothing while ${plural(report.summary.rejected, 'row is', 'rows are')} bad: `
      + 'the result lists them to fix.';
  } else {
    text = `With "Import the good rows", the ${report.rows - report.summary.rejected} good rows are written and `
      + `${plural(report.summary.rejected, 'bad row is', 'bad rows are')} rejected, to download as rejects.csv.`;
  }
  $('apply-hint').textContent = text;
}
