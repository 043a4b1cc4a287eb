// The page of `ucsv serve` (SPEC §8.1): sign in, pick a CSV, preview it (a dry run on the
// server, marked on the first rows), import or update with a progress bar, download the
// rejected rows and the errors, export, and browse the users. Plain JavaScript over the
// server's own API (SPEC §8), no library and no build step: native modules, served as
// they are under /assets/, each owning one part of the page:
//
//   main.js       this one: signing in and out, and the wiring of every control
//   session.js    what the account's role allows; a sign-in that stops working
//   api.js        the API's calls and the credentials they carry
//   state.js      the page's state, in memory only
//   csv.js        encodings, delimiters, reading and writing CSV as the server does
//   importing.js  picking a file, the check (a dry run), the import or update
//   preview.js    the preview of a file and its errors
//   result.js     the result of an import; rejects.csv and errors.csv
//   users.js      the users table and the export
//   batches.js    the recent changes and their undo
//   dom.js        small helpers of the DOM and of words

import { $, el, say } from './dom.js';
import { state } from './state.js';
import { api, basic, Problem, WRONG_SIGN_IN } from './api.js';
import { applyRole, cancelUploads } from './session.js';
import { apply, chooseFile, resetFile } from './importing.js';
import { action, setApplyHint } from './preview.js';
import { downloadErrors, downloadRejects } from './result.js';
import { exportUsers, loadUsers } from './users.js';
import { cancelUndo, confirmUndo, loadBatches } from './batches.js';

// ---------------------------------------------------------------- sign in

async function signIn(event) {
  event.preventDefault();
  const name = $('username').value.trim();
  const password = $('password').value;
  if (!name || !password) {
    say('sign-in-message', 'error', 'Type the account name and its password.');
    (name ? $('password') : $('username')).focus();
    return;
  }
  $('sign-in-button').disabled = true;
  say('sign-in-message', null, 'Signing in…');
  state.creds = { name, header: basic(name, password) };
  const entity = state.entity;
  state.entity = null;
  try {
    const me = await (await api('/1.1/me')).json();
    const entities = Array.isArray(me.entities) ? me.entities : [];
    if (entities.length === 0) {
      throw new Problem('This account has no role in any entity: a sys_admin can give it one '
        + '(ucsv account set-tenant NAME ENTITY=ROLE).', 403);
    }
    $('password').value = '';
    say('sign-in-message', null, '');
    state.entities = entities;
    state.entity = entities.some((e) => e.id === entity) ? entity : entities[0].id;
    showSignedIn(me.account && me.account.username ? me.account.username : name);
  } catch (problem) {
    state.creds = null;
    state.entity = entity;
    say('sign-in-message', 'error', problem.status === 401 ? WRONG_SIGN_IN : problem.message);
    $('password').focus();
  } finally {
    $('sign-in-button').disabled = false;
  }
}

function showSignedIn(name) {
  $('who-name').textContent = name;
  const select = $('tenant');
  select.replaceChildren(...state.entities.map((e) => el('option', {
    value: String(e.id), text: `${e.name || e.id} (${e.role})`, selected: e.id === state.entity,
  })));
  // A picker only when there is something to pick.
  $('tenant-box').hidden = state.entities.length < 2;
  $('who').hidden = false;
  $('sign-in').hidden = true;
  $('work').hidden = false;
  applyRole();
  loadUsers();
  loadBatches();
  $('main').focus();
}

function signOut() {
  state.creds = null;
  state.entities = [];
  state.entity = null;
  cancelUploads();
  resetFile();
  $('file').value = '';
  $('users-table').tHead.replaceChildren();
  $('users-table').tBodies[0].replaceChildren();
  $('work').hidden = true;
  $('who').hidden = true;
  $('sign-in').hidden = false;
  say('sign-in-message', 'ok', 'Signed out: this page no longer holds your password.');
  $('username').focus();
}

// ---------------------------------------------------------------- wiring

function init() {
  $('sign-in-form').addEventListener('submit', signIn);
  $('sign-out').addEventListener('click', signOut);
  $('tenant').addEventListener('change', () => {
    state.entity = Number($('tenant').value);
    state.users.offset = 0;
    applyRole();
    loadUsers();
    loadBatches();
    if (state.file) chooseFile(state.file);
  });
  $('file').addEventListener('change', () => chooseFile($('file').files[0]));
  $('encoding').addEventListener('change', () => {
    if (state.file) chooseFile(state.file);
  });
  for (const radio of document.querySelectorAll('input[name="action"]')) {
    radio.addEventListener('change', () => {
      $('file-title').textContent = action() === 'update' ? 'Update from file' : 'Import a file';
      if (state.file) chooseFile(state.file);
    });
  }
  for (const radio of document.querySelectorAll('input[name="policy"]')) {
    radio.addEventListener('change', setApplyHint);
  }
  $('check-cancel').addEventListener('click', () => state.checkXhr && state.checkXhr.abort());
  $('apply-cancel').addEventListener('click', () => state.applyXhr && state.applyXhr.abort());
  $('apply').addEventListener('click', apply);
  $('download-rejects').addEventListener('click', downloadRejects);
  $('download-errors').addEventListener('click', downloadErrors);
  $('export').addEventListener('click', exportUsers);
  $('batches-refresh').addEventListener('click', () => {
    say('batches-message', null, '');
    loadBatches();
  });
  $('undo-confirm').addEventListener('click', confirmUndo);
  $('undo-cancel').addEventListener('click', cancelUndo);
  $('search-form').addEventListener('submit', (e) => {
    e.preventDefault();
    state.users.search = $('search').value.trim();
    state.users.offset = 0;
    loadUsers();
  });
  $('prev').addEventListener('click', () => {
    state.users.offset = Math.max(0, state.users.offset - state.users.limit);
    loadUsers();
  });
  $('next').addEventListener('click', () => {
    state.users.offset += state.users.limit;
    loadUsers();
  });
  $('page-size').addEventListener('change', () => {
    state.users.limit = Number($('page-size').value);
    state.users.offset = 0;
    loadUsers();
  });

  // Drop a file on the drop zone; a file dropped elsewhere is ignored (not opened).
  const drop = $('drop');
  for (const type of ['dragenter', 'dragover']) {
    drop.addEventListener(type, (e) => {
      e.preventDefault();
      drop.classList.add('over');
    });
  }
  for (const type of ['dragleave', 'drop']) {
    drop.addEventListener(type, () => drop.classList.remove('over'));
  }
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    const file = e.dataTransfer && e.dataTransfer.files[0];
    if (file && !$('file').disabled) chooseFile(file);
  });
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());

  $('username').focus();
}

init();
