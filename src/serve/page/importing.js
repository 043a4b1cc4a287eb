// The import flow: a file picked or dropped is read (its start only) and previewed, checked
// on the server by a dry run, then imported or updated with a progress bar.
//
// Choices that matter:
// - A file is never read whole into memory. The preview decodes and parses only its first
//   256 KiB; the check (a dry run) and the import send the File object itself, which the
//   browser streams from disk, and the server reads it as it applies the rows: the upload's
//   progress is the server's progress through the file.
// - The report's lists are bounded (report_limit): a dry run of a million good rows would
//   otherwise list a million created users. The counts always cover every row.

import { $, say, size } from './dom.js';
import { state } from './state.js';
import { messageOf, upload } from './api.js';
import { detectEncoding, notCsv, readHead } from './csv.js';
import { lostSignIn } from './session.js';
import { action, CHECK_LIMIT, policy, renderPreview, setApplyHint } from './preview.js';
import { showResult, showResultText } from './result.js';
import { loadUsers } from './users.js';
import { loadBatches } from './batches.js';

const HEAD_BYTES = 256 * 1024; // the start of the file the preview reads
const APPLY_LIMIT = 100000; // report_limit of an import: the rows rejects.csv can hold

export function resetFile() {
  state.generation++;
  if (state.checkXhr) state.checkXhr.abort();
  state.head = null;
  state.check = null;
  $('preview').hidden = true;
  $('check').hidden = true;
  $('result').hidden = true;
  say('file-message', null, '');
}

/** A file was picked or dropped (or the encoding, the action or the entity changed). */
export async function chooseFile(file) {
  resetFile();
  const generation = state.generation;
  state.file = file || null;
  if (!file) return;
  if (file.size === 0) {
    say('file-message', 'error', `"${file.name}" is empty. A CSV file starts with a line of column `
      + 'names (firstname, lastname, ...), then one line per user. Nothing was sent.');
    return;
  }
  let bytes;
  try {
    bytes = new Uint8Array(await file.slice(0, HEAD_BYTES).arrayBuffer());
  } catch (e) {
    say('file-message', 'error', `"${file.name}" cannot be read (${e.message}). Nothing was sent.`);
    return;
  }
  if (generation !== state.generation) return;
  const choice = $('encoding').value;
  const kind = notCsv(bytes, choice);
  if (kind) {
    say('file-message', 'error', `"${file.name}" is not a CSV file: ${kind}. Nothing was sent.`);
    return;
  }
  const complete = file.size <= HEAD_BYTES;
  const encoding = detectEncoding(bytes, choice, complete);
  let text;
  try {
    text = new TextDecoder(encoding.label).decode(bytes, { stream: !complete });
  } catch (e) {
    say('file-message', 'error', `The encoding ${encoding.label} is not known to this browser.`);
    return;
  }
  const head = readHead(text, complete, null);
  if (!head.header) {
    say('file-message', 'error', `"${file.name}" holds no line of column names`
      + (complete ? ' (it is blank).' : ' in its first 256 KiB.') + ' Nothing was sent.');
    return;
  }
  state.encoding = encoding;
  state.head = head;
  state.text = text;
  state.complete = complete;
  say('file-message', encoding.note ? 'warn' : null, encoding.note || '');
  renderPreview();
  startCheck(generation);
}

function showProgress(prefix, sent, total) {
  const pct = total > 0 ? Math.floor((sent / total) * 100) : 100;
  $(prefix + '-bar').value = pct;
  $(prefix + '-text').textContent = sent >= total
    ? 'the whole file is sent; the server is finishing…'
    : `${pct}% (${size(sent)} of ${size(total)})`;
}

async function startCheck(generation) {
  const file = state.file;
  const mode = action();
  $('check').hidden = false;
  $('check-label').textContent = mode === 'update'
    ? 'Checking the changes against the database' : 'Checking the file against the database';
  showProgress('check', 0, file.size);
  setApplyHint();
  try {
    const { status, body } = await upload(mode,
      { dry_run: 'true', keep_going: 'true', report_limit: String(CHECK_LIMIT) },
      file, state.encoding, (sent, total) => showProgress('check', sent, total),
      (xhr) => { state.checkXhr = xhr; });
    if (generation !== state.generation) return;
    $('check').hidden = true;
    if (status === 200 && body && body.command) {
      state.check = body;
      if (body.delimiter && body.delimiter !== state.head.delimiter) {
        // The server read another delimiter than the page guessed: show the rows as it did.
        state.head = readHead(state.text, state.complete, body.delimiter);
      }
      renderPreview();
    } else if (status === 401) {
      lostSignIn();
    } else {
      // The server names the file "the request body": the page knows its name.
      const why = messageOf(body, status).replace(/^The request body\b/, `"${file.name}"`);
      say('file-message', 'error', `The file cannot be used. ${why} Nothing was written.`);
      $('preview').hidden = true;
    }
  } catch (problem) {
    if (generation !== state.generation) return;
    $('check').hidden = true;
    if (problem.cancelled && state.applyXhr) {
      // Stopped for the import, which checks every row as it writes.
      say('file-message', null, '');
    } else if (problem.cancelled) {
      say('file-message', 'warn', 'The check was cancelled; nothing was written. The import '
        + 'checks every row again as it goes.');
    } else {
      say('file-message', 'error', `The connection was lost while checking the file: ${problem.message} `
        + 'A check never writes anything.');
    }
    setApplyHint();
  }
}

export async function apply() {
  if (!state.file || !state.head) return;
  const file = state.file;
  const encoding = state.encoding;
  const mode = action();
  const keepGoing = policy() === 'good';
  if (state.checkXhr) state.checkXhr.abort();
  const generation = state.generation;
  $('apply').disabled = true;
  $('result').hidden = true;
  $('apply-progress').hidden = false;
  $('apply-cancel').hidden = false;
  $('apply-label').textContent = mode === 'update' ? 'Updating' : 'Importing';
  showProgress('apply', 0, file.size);
  try {
    const { status, body } = await upload(mode,
      { keep_going: keepGoing ? 'true' : 'false', report_limit: String(APPLY_LIMIT), filename: file.name.slice(0, 255) },
      file, encoding, (sent, total) => {
        showProgress('apply', sent, total);
        // Once the whole file is sent, stopping can no longer promise that nothing is written.
        $('apply-cancel').hidden = sent >= total;
      }, (xhr) => { state.applyXhr = xhr; });
    if (status === 401) {
      lostSignIn();
      return;
    }
    if (body && body.command) {
      state.result = { report: body, file, encoding, mode };
      showResult(body, mode);
      if (body.committed) {
        loadUsers();
        loadBatches();
      }
    } else {
      showResultText('error', `Nothing was written. ${messageOf(body, status).replace(/^The request body\b/, `"${file.name}"`)}`);
    }
  } catch (problem) {
    if (problem.cancelled) {
      showResultText('warn', 'Cancelled before the whole file was sent: nothing was written.');
    } else if (problem.sent < problem.total) {
      showResultText('error', `The connection to the server was lost after ${size(problem.sent)} of `
        + `${size(problem.total)} had been sent. An import is written only once the server has read the whole `
        + 'file, so nothing was written. Check that the server is running, then try again.');
    } else {
      showResultText('error', 'The connection to the server was lost after the whole file had been sent: '
        + 'the server may have finished the import. Look at the users below before trying again.');
      loadUsers();
    }
  } finally {
    $('apply').disabled = state.reader;
    $('apply-progress').hidden = true;
    if (generation === state.generation) setApplyHint();
  }
}
