// The users of the entity: the table (search, sort by a column, pages through
// GET /1.1/users) and its export to CSV (GET /1.1/users/export).

import { $, el, say, save, size } from './dom.js';
import { state } from './state.js';
import { api } from './api.js';
import { fail } from './session.js';

const USER_COLUMNS = [
  ['firstname', 'First name'], ['lastname', 'Last name'], ['email', 'Email'], ['exten', 'Number'],
  ['context', 'Context'], ['line_protocol', 'Line'], ['username', 'Username'], ['uuid', 'UUID'],
];

export async function loadUsers() {
  const u = state.users;
  const generation = ++u.generation;
  const query = new URLSearchParams({ limit: String(u.limit), offset: String(u.offset) });
  if (u.search) query.set('search', u.search);
  if (u.order) {
    query.set('order', u.order);
    query.set('direction', u.direction);
  }
  try {
    const page = await (await api('/1.1/users?' + query)).json();
    if (generation !== u.generation) return;
    renderUsers(page);
  } catch (problem) {
    if (generation === u.generation) fail(problem, 'users-message');
  }
}

function renderUsers(page) {
  const u = state.users;
  const head = el('tr', {});
  for (const [key, title] of USER_COLUMNS) {
    const sorted = u.order === key;
    const button = el('button', { type: 'button', class: 'sort', text: title });
    if (sorted) button.append(' ', el('span', { 'aria-hidden': 'true', text: u.direction === 'asc' ? '▲' : '▼' }));
    button.addEventListener('click', () => {
      u.direction = sorted && u.direction === 'asc' ? 'desc' : 'asc';
      u.order = key;
      u.offset = 0;
      loadUsers();
    });
    head.append(el('th', { scope: 'col', 'aria-sort': sorted ? (u.direction === 'asc' ? 'ascending' : 'descending') : null }, button));
  }
  $('users-table').tHead.replaceChildren(head);
  const rows = page.items.map((user) => el('tr', {}, USER_COLUMNS.map(([key]) => {
    const value = user[key] === null || user[key] === undefined ? '' : String(user[key]);
    return el('td', { class: key === 'uuid' ? 'long' : null, title: key === 'uuid' ? value : null, text: value });
  })));
  $('users-table').tBodies[0].replaceChildren(...rows);
  const total = page.total;
  const first = total === 0 ? 0 : u.offset + 1;
  const last = u.offset + page.items.length;
  $('users-caption').textContent = total === 0
    ? (u.search ? `No user of entity ${state.entity} matches "${u.search}".` : `Entity ${state.entity} has no users yet.`)
    : `Users of entity ${state.entity}` + (u.search ? ` matching "${u.search}"` : '') + `: ${first}–${last} of ${total}`;
  $('page-text').textContent = `${first}–${last} of ${total}`;
  $('prev').disabled = u.offset === 0;
  $('next').disabled = last >= total;
  say('users-message', null, '');
}

export async function exportUsers() {
  const button = $('export');
  button.disabled = true;
  say('users-message', null, 'Exporting the users of entity ' + state.entity + '…');
  try {
    const response = await api('/1.1/users/export', 'text/csv');
    const blob = await response.blob();
    const disposition = response.headers.get('Content-Disposition') || '';
    const name = (/filename="([^"]+)"/.exec(disposition) || [])[1] || 'users.csv';
    save(name, [blob], 'text/csv;charset=utf-8');
    say('users-message', 'ok', `Exported to ${name} (${size(blob.size)}).`);
  } catch (problem) {
    fail(problem, 'users-message');
  } finally {
    button.disabled = state.reader;
  }
}
