// The account signed in, as the other parts of the page see it: what its role in the
// entity allows, and what a refused call does (a sign-in that stops working stops the
// uploads and goes back to the form with a message; any other refusal is said where the
// call was made). Signing in and out is main.js's.

import { $, say } from './dom.js';
import { state } from './state.js';
import { LOST_SIGN_IN } from './api.js';

/** Handles a Problem: a 401 signs out with a message; anything else is said in `where`. */
export function fail(problem, where) {
  if (problem.status === 401) {
    lostSignIn();
  } else {
    say(where, 'error', problem.message);
  }
}

/** What the account's role in the entity allows: a viewer reads, a user or more writes. */
export function applyRole() {
  const e = state.entities.find((x) => x.id === state.entity);
  const reader = Boolean(e && e.role === 'viewer');
  say('role-message', reader ? 'warn' : null, reader
    ? `Your role in entity ${e.name || state.entity} is viewer: you can look at its users, not import, update or export them.`
    : '');
  state.reader = reader;
  for (const id of ['file', 'export', 'apply']) $(id).disabled = reader;
  $('file-section').hidden = reader;
}

/** A sign-in that stopped working: back to the form, with the message. */
export function lostSignIn() {
  state.creds = null;
  cancelUploads();
  $('work').hidden = true;
  $('who').hidden = true;
  $('sign-in').hidden = false;
  say('sign-in-message', 'error', LOST_SIGN_IN);
  $('password').focus();
}

export function cancelUploads() {
  for (const key of ['checkXhr', 'applyXhr']) {
    if (state[key]) state[key].abort();
  }
}
