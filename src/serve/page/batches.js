// The recent changes: the last batches of the server's history, each with its undo.
//
// Every write is a batch in the server's history (GET /1.1/batches); undo takes a whole
// batch back in one transaction (POST /1.1/batches/{id}/undo), after a preview that is
// the same request with dry_run (the server writes nothing and says what it would do).

import { $, el, plural, say } from './dom.js';
import { state } from './state.js';
import { api, messageOf, post } from './api.js';
import { fail, lostSignIn } from './session.js';
import { loadUsers } from './users.js';

const BATCHES_SHOWN = 10;

export async function loadBatches() {
  try {
    const page = await (await api('/1.1/batches?limit=' + BATCHES_SHOWN)).json();
    renderBatches(page.items);
  } catch (problem) {
    fail(problem, 'batches-message');
  }
}

/** "3 created, 1 updated" of a batch's counts. */
function batchCounts(b) {
  const parts = [];
  if (b.created) parts.push(`${b.created.toLocaleString('en')} created`);
  if (b.updated) parts.push(`${b.updated.toLocaleString('en')} updated`);
  if (b.deleted) parts.push(`${b.deleted.toLocaleString('en')} deleted`);
  return parts.join(', ') || 'none';
}

function renderBatches(items) {
  const rows = items.map((b) => {
    let status = 'in effect';
    if (b.undone_by) status = `undone by #${b.undone_by}`;
    else if (b.undoes) status = `undoes #${b.undoes}`;
    const cell = el('td', {});
    if (!b.undone_by && !state.reader) {
      const button = el('button', { type: 'button', class: 'undo', text: 'Undo…', 'aria-label': `Undo batch ${b.id}` });
      button.addEventListener('click', () => previewUndo(b));
      cell.append(button);
    }
    return el('tr', { 'data-batch': String(b.id) },
      el('td', { text: `#${b.id}` }),
      el('td', { text: b.at.replace('T', ' ').replace(/\.\d+/, '') }),
      el('td', { text: b.kind }),
      el('td', { text: b.who }),
      el('td', { class: 'long', title: b.sha256 ? `SHA-256 ${b.sha256}` : null, text: b.source }),
      el('td', { text: batchCounts(b) }),
      el('td', { text: status }),
      cell);
  });
  $('batches-table').tBodies[0].replaceChildren(...rows);
  $('batches-caption').textContent = items.length
    ? `The ${plural(items.length, 'latest change')}, newest first`
    : 'Nothing has been written yet.';
}

/** What an undo did or would do, from the server's answer. */
function undoText(done, dryRun) {
  const [del, set, make] = dryRun ? ['delete', 'set', 're-create'] : ['deleted', 'set', 're-created'];
  const parts = [];
  if (done.deleted) parts.push(`${del} ${plural(done.deleted, 'user')} it created (their numbers freed)`);
  if (done.restored) parts.push(`${set} ${plural(done.restored, 'user')} back as they were before it`);
  if (done.recreated) parts.push(`${make} ${plural(done.recreated, 'user')} it deleted`);
  const what = parts.length ? parts.join(', ') : (dryRun ? 'change no user' : 'changed no user');
  return dryRun
    ? `Undoing batch #${done.batch} would ${what}, in one transaction.`
    : `Batch #${done.batch} was undone: ${what}. The undo is batch #${done.undo}, and can itself be undone.`;
}

/** Asks the server what undoing `batch` would do, and offers to do it. */
async function previewUndo(batch) {
  $('undo-preview').hidden = true;
  say('batches-message', null, `Asking what undoing batch #${batch.id} would do…`);
  try {
    const { status, body } = await post(`/1.1/batches/${batch.id}/undo?dry_run=true`);
    if (status === 401) {
      lostSignIn();
      return;
    }
    if (status !== 200) {
      say('batches-message', 'error', `Batch #${batch.id} cannot be undone. ${messageOf(body, status)}`);
      return;
    }
    say('batches-message', null, '');
    state.undo = batch.id;
    say('undo-text', 'warn', undoText(body, true));
    $('undo-confirm').textContent = `Undo batch #${batch.id}`;
    $('undo-preview').hidden = false;
    $('undo-confirm').focus();
  } catch (problem) {
    fail(problem, 'batches-message');
  }
}

export async function confirmUndo() {
  const id = state.undo;
  if (id === null) return;
  $('undo-confirm').disabled = true;
  try {
    const { status, body } = await post(`/1.1/batches/${id}/undo`);
    if (status === 401) {
      lostSignIn();
      return;
    }
    $('undo-preview').hidden = true;
    state.undo = null;
    if (status === 200) {
      say('batches-message', 'ok', undoText(body, false));
      loadUsers();
    } else {
      say('batches-message', 'error', `Nothing was written. ${messageOf(body, status)}`);
    }
    await loadBatches();
  } catch (problem) {
    fail(problem, 'batches-message');
  } finally {
    $('undo-confirm').disabled = false;
  }
}

export function cancelUndo() {
  state.undo = null;
  $('undo-preview').hidden = true;
}
