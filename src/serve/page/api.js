// The calls of the server's API (SPEC §8) and the credentials they carry: a GET, a POST
// with no body, and the upload of a file to the import route with its progress; what a
// refused or failed call says (Problem, and the server's own message as sentences).
//
// Choices that matter:
// - The credentials live in the page's memory only (state.js; never in storage or a
//   cookie), as the Basic header every call sends; signing out or closing the tab forgets
//   them. Every call is marked X-Requested-With, for which the server leaves the challenge
//   out of a 401, so a wrong or expired sign-in is the page's message, not the browser's
//   dialog.

import { state } from './state.js';

const REPORT = 'application/vnd.ucsv.report+json';

const NO_SERVER = 'The server does not answer. Check that ucsv serve is still running and that this '
  + 'computer reaches it, then try again.';
export const WRONG_SIGN_IN = 'The account name or the password is not accepted. (An account is also refused '
  + 'while it is deactivated, or locked after five wrong passwords in a row until a sys_admin unlocks it.)';
export const LOST_SIGN_IN = 'Your sign-in is no longer accepted: the password may have changed, or the account '
  + 'was deactivated or locked. Sign in again to go on; nothing was written by the refused request.';

/** A refused or failed call: its HTTP status (0: no answer) and the server's message. */
export class Problem extends Error {
  constructor(message, status, extra) {
    super(message);
    this.status = status;
    Object.assign(this, extra || {});
  }
}

/** `text` as a sentence: a capital first, a full stop last. */
function sentence(text) {
  const t = String(text).trim();
  if (!t) return t;
  return t[0].toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? '' : '.');
}

/** The message of an API error body ({"errors": [{"message", "help"}]}), as sentences. */
export function messageOf(body, status) {
  const first = body && Array.isArray(body.errors) && body.errors[0];
  if (first && first.message) {
    let text = sentence(first.message);
    if (first.help) text += ' ' + sentence(first.help);
    if (body.errors.length > 1) text += ` (And ${body.errors.length - 1} more.)`;
    return text;
  }
  return `The server answered ${status}.`;
}

/** "Basic base64(name:password)", the name and password in UTF-8. */
export function basic(name, password) {
  const bytes = new TextEncoder().encode(name + ':' + password);
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return 'Basic ' + btoa(text);
}

function headers(extra) {
  const h = Object.assign({ 'X-Requested-With': 'XMLHttpRequest' }, extra || {});
  if (state.creds) h.Authorization = state.creds.header;
  if (state.entity !== null) h['Wazo-Tenant'] = String(state.entity);
  return h;
}

/** A GET of the API; throws a Problem unless the answer is a success. */
export async function api(path, accept) {
  let response;
  try {
    // credentials 'omit': no cookie, and no browser sign-in dialog on a 401.
    response = await fetch(path, {
      headers: headers({ Accept: accept || 'application/json' }),
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch (e) {
    throw new Problem(NO_SERVER, 0);
  }
  if (!response.ok) {
    let body = null;
    try {
      body = await response.json();
    } catch (e) {
      body = null;
    }
    throw new Problem(response.status === 401 ? WRONG_SIGN_IN : messageOf(body, response.status),
      response.status);
  }
  return response;
}

/** A POST of the API with no body; resolves with { status, body } for any answer. */
export async function post(path) {
  let response;
  try {
    response = await fetch(path, {
      method: 'POST',
      headers: headers({ Accept: 'application/json' }),
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch (e) {
    throw new Problem(NO_SERVER, 0);
  }
  let body = null;
  try {
    body = await response.json();
  } catch (e) {
    body = null;
  }
  return { status: response.status, body };
}

/**
 * Sends `file` to the import route (POST: import, PUT: update) with the query `params`,
 * reporting progress as (bytes sent, total). Resolves with { status, body } for any
 * answer; rejects with a Problem when the connection fails (status 0, with `sent` and
 * `total`) or when cancelled (`cancelled`).
 */
export function upload(mode, params, file, encoding, progress, hold) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    hold(xhr);
    let sent = 0;
    const total = file.size;
    xhr.open(mode === 'update' ? 'PUT' : 'POST', '/1.1/users/import?' + new URLSearchParams(params));
    const type = 'text/csv' + (encoding.charset ? '; charset=' + encoding.charset : '');
    for (const [k, v] of Object.entries(headers({ 'Content-Type': type, Accept: REPORT }))) {
      xhr.setRequestHeader(k, v);
    }
    xhr.responseType = 'text';
    xhr.upload.onprogress = (e) => {
      sent = e.loaded;
      progress(e.loaded, e.lengthComputable ? e.total : total);
    };
    xhr.upload.onload = () => progress(total, total);
    xhr.onload = () => {
      hold(null);
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch (e) {
        body = null;
      }
      resolve({ status: xhr.status, body });
    };
    xhr.onerror = () => {
      hold(null);
      reject(new Problem(NO_SERVER, 0, { sent, total }));
    };
    xhr.onabort = () => {
      hold(null);
      reject(new Problem('cancelled', 0, { cancelled: true, sent, total }));
    };
    // The File itself: the browser streams it from disk.
    xhr.send(file);
  });
}
