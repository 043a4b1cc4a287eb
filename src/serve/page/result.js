// The result of an import or update: what was written, and rejects.csv and errors.csv to
// download.
//
// Choices that matter:
// - rejects.csv and errors.csv are made here, from the report (the lines of the rejected
//   rows) and the file the user picked, read again as a stream. The server keeps nothing
//   between requests, so having it keep the rejected rows of an import for a later
//   download would add state (where, for how long, for whom) for no gain: the browser has
//   the file, and the report says which records were rejected. The files are written as
//   `ucsv import --rejects --errors` writes them (UTF-8, the file's header and delimiter,
//   quoting only where needed), so both doors give the same bytes.

import { $, plural, save, say } from './dom.js';
import { state } from './state.js';
import { CsvReader, csvRecord } from './csv.js';

const READ_CHUNK = 4 * 1024 * 1024; // bytes read at a time when making rejects.csv

export function showResultText(kind, text) {
  state.result = null;
  $('downloads').hidden = true;
  $('result-more').hidden = true;
  say('result-text', kind, text);
  $('result').hidden = false;
  $('result').focus();
}

function describeCreated(c) {
  const parts = [];
  if (c.lines) parts.push(plural(c.lines, 'line'));
  if (c.extensions) parts.push(plural(c.extensions, 'extension'));
  if (c.incalls) parts.push(plural(c.incalls, 'incoming number'));
  if (c.voicemails) parts.push(plural(c.voicemails, 'voicemail box', 'voicemail boxes'));
  if (c.call_permissions) parts.push(plural(c.call_permissions, 'call permission'));
  return parts.length ? ` (with ${parts.join(', ')})` : '';
}

export function showResult(report, mode) {
  const bad = report.summary.rejected;
  let kind;
  let text;
  if (report.committed) {
    if (mode === 'update') {
      const changed = report.summary.updated.users || 0;
      const same = report.summary.updated.unchanged || 0;
      text = `Updated ${plural(changed, 'user')}; ${plural(same, 'row')} changed nothing.`;
    } else {
      text = `Imported ${plural(report.summary.created.users, 'user')}${describeCreated(report.summary.created)}.`;
    }
    if (bad) text += ` ${plural(bad, 'row was', 'rows were')} rejected and not written: download them, fix them, and ${mode} that file.`;
    kind = bad ? 'warn' : 'ok';
  } else if (report.rows === 0) {
    kind = 'warn';
    text = 'The file has no rows: nothing was written.';
  } else {
    kind = 'error';
    text = `Nothing was written: ${plural(bad, 'row is', 'rows are')} bad (of ${plural(report.rows, 'row')}). `
      + 'Fix them (errors.csv lists every error, rejects.csv holds the rows) and try again, '
      + 'or choose "Import the good rows".';
  }
  $('result').hidden = false;
  say('result-text', kind, text);
  $('downloads').hidden = bad === 0;
  const listed = new Set(report.errors.map((e) => e.row_number)).size;
  $('result-more').hidden = listed >= bad;
  $('result-more').textContent = listed >= bad ? '' : `rejects.csv and errors.csv hold the first ${plural(listed, 'rejected row')} `
    + `of ${bad.toLocaleString('en')}. For all of them, run on the server: ucsv ${mode} FILE --keep-going --rejects rejects.csv --errors errors.csv`;
  $('result').focus();
}

export function downloadErrors() {
  const result = state.result;
  if (!result) return;
  const parts = [csvRecord(['row_number', 'line', 'column', 'code', 'message'], ',')];
  for (const e of result.report.errors) {
    parts.push(csvRecord([String(e.row_number), String(e.line), e.column || '', e.code, e.message], ','));
  }
  save('errors.csv', parts, 'text/csv;charset=utf-8');
}

/**
 * rejects.csv: the header and the records that start on the lines of the rejected rows,
 * read from the picked file in chunks (decoded as the server decoded it), in UTF-8 with
 * the file's delimiter. The read stops after the last rejected record.
 */
export async function downloadRejects() {
  const result = state.result;
  if (!result) return;
  const button = $('download-rejects');
  button.disabled = true;
  const label = button.textContent;
  button.textContent = 'Preparing rejects.csv…';
  try {
    const lines = new Set(result.report.errors.map((e) => e.line));
    const last = Math.max(...lines);
    const delimiter = result.report.delimiter;
    const parts = [];
    const reader = new CsvReader(delimiter, (cells, line) => {
      if (line > last) return false;
      parts.push(csvRecord(cells, delimiter));
      return true;
    }, (line, row) => row === 0 || lines.has(line) || line > last);
    const decoder = new TextDecoder(result.encoding.label);
    const file = result.file;
    for (let at = 0; at < file.size && !reader.stopped; at += READ_CHUNK) {
      const chunk = await file.slice(at, at + READ_CHUNK).arrayBuffer();
      reader.feed(decoder.decode(chunk, { stream: true }));
    }
    if (!reader.stopped) {
      reader.feed(decoder.decode());
      reader.end();
    }
    save('rejects.csv', parts, 'text/csv;charset=utf-8');
  } catch (e) {
    say('result-more', 'error', `rejects.csv could not be made: the file cannot be read again (${e.message}). `
      + 'Pick it again and re-run the import, or use errors.csv.');
  } finally {
    button.disabled = false;
    button.textContent = label;
  }
}
