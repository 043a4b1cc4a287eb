// The page of `ucsv serve` (SPEC §8.1): sign in, pick a CSV, preview it (a dry run on the
// server, marked on the first rows), import or update with a progress bar, download the
// rejected rows and the errors, export, and browse the users. Plain JavaScript over the
// server's own API (SPEC §8), no library and no build step.
//
// Choices that matter:
// - The credentials live in this script's memory only (never in storage or a cookie), as
//   the Basic header every call sends; signing out or closing the tab forgets them. Every
//   call is marked X-Requested-With, for which the server leaves the challenge out of a
//   401, so a wrong or expired sign-in is this page's message, not the browser's dialog.
// - A file is never read whole into memory. The preview decodes and parses only its first
//   256 KiB; the check (a dry run) and the import send the File object itself, which the
//   browser streams from disk, and the server reads it as it applies the rows: the upload's
//   progress is the server's progress through the file.
// - rejects.csv and errors.csv are made here, from the report (the lines of the rejected
//   rows) and the file the user picked, read again as a stream. The server keeps nothing
//   between requests, so having it keep the rejected rows of an import for a later
//   download would add state (where, for how long, for whom) for no gain: the browser has
//   the file, and the report says which records were rejected. The files are written as
//   `ucsv import --rejects --errors` writes them (UTF-8, the file's header and delimiter,
//   quoting only where needed), so both doors give the same bytes.
// - The report's lists are bounded (report_limit): a dry run of a million good rows would
//   otherwise list a million created users. The counts always cover every row.
'use strict';

(() => {
  const HEAD_BYTES = 256 * 1024; // the start of the file the preview reads
  const PREVIEW_ROWS = 100; // rows shown in the preview table
  const CHECK_LIMIT = 1000; // report_limit of the dry run: enough to mark the preview
  const APPLY_LIMIT = 100000; // report_limit of an import: the rows rejects.csv can hold
  const SHOWN_ISSUES = 500; // errors or warnings listed in the page
  const REPORT = 'application/vnd.ucsv.report+json';
  const READ_CHUNK = 4 * 1024 * 1024; // bytes read at a time when making rejects.csv

  const $ = (id) => document.getElementById(id);

  /** An element with properties and children (text or nodes); never parses HTML. */
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = v;
      else if (k in node && k !== 'list') node[k] = v;
      else node.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : String(c));
    }
    return node;
  }

  /** A symbol for the eye, with words for a screen reader. */
  function sym(symbol, words) {
    return [el('span', { class: 'sym', 'aria-hidden': 'true', text: symbol }),
      el('span', { class: 'visually-hidden', text: words })];
  }

  const state = {
    creds: null, // { name, header }: the Basic header, in memory only
    entities: [], // [{ id, name, role }] from /1.1/me
    entity: null, // the Wazo-Tenant sent
    reader: false, // the account only reads in the entity (viewer)
    file: null, // the File picked
    encoding: null, // { label, shown, charset, note }
    head: null, // the first records: { delimiter, header, rows: [{ line, row, cells }], complete }
    check: null, // the dry run's report
    checkXhr: null,
    applyXhr: null,
    result: null, // { report, file, encoding, mode } of the last import or update
    generation: 0, // bumped when the file, the action or the entity changes
    users: { offset: 0, limit: 20, search: '', order: '', direction: 'asc', generation: 0 },
    undo: null, // the batch whose undo is previewed
  };

  // ---------------------------------------------------------------- messages

  /** Shows `text` in the message element `id` (kind: error, warn, ok, or plain). */
  function say(id, kind, text) {
    const node = $(id);
    if (!text) {
      node.hidden = true;
      node.textContent = '';
      return;
    }
    node.className = 'message' + (kind ? ' ' + kind : '');
    node.textContent = text;
    node.hidden = false;
  }

  const NO_SERVER = 'The server does not answer. Check that ucsv serve is still running and that this '
    + 'computer reaches it, then try again.';
  const WRONG_SIGN_IN = 'The account name or the password is not accepted. (An account is also refused '
    + 'while it is deactivated, or locked after five wrong passwords in a row until a sys_admin unlocks it.)';
  const LOST_SIGN_IN = 'Your sign-in is no longer accepted: the password may have changed, or the account '
    + 'was deactivated or locked. Sign in again to go on; nothing was written by the refused request.';

  /** A refused or failed call: its HTTP status (0: no answer) and the server's message. */
  class Problem extends Error {
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
  function messageOf(body, status) {
    const first = body && Array.isArray(body.errors) && body.errors[0];
    if (first && first.message) {
      let text = sentence(first.message);
      if (first.help) text += ' ' + sentence(first.help);
      if (body.errors.length > 1) text += ` (And ${body.errors.length - 1} more.)`;
      return text;
    }
    return `The server answered ${status}.`;
  }

  /** Handles a Problem: a 401 signs out with a message; anything else is said in `where`. */
  function fail(problem, where) {
    if (problem.status === 401) {
      lostSignIn();
    } else {
      say(where, 'error', problem.message);
    }
  }

  // ---------------------------------------------------------------- the API

  /** "Basic base64(name:password)", the name and password in UTF-8. */
  function basic(name, password) {
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
  async function api(path, accept) {
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

  /**
   * Sends `file` to the import route (POST: import, PUT: update) with the query `params`,
   * reporting progress as (bytes sent, total). Resolves with { status, body } for any
   * answer; rejects with a Problem when the connection fails (status 0, with `sent` and
   * `total`) or when cancelled (`cancelled`).
   */
  function upload(mode, params, file, encoding, progress, hold) {
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

  /** What the account's role in the entity allows: a viewer reads, a user or more writes. */
  function applyRole() {
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
  function lostSignIn() {
    state.creds = null;
    cancelUploads();
    $('work').hidden = true;
    $('who').hidden = true;
    $('sign-in').hidden = false;
    say('sign-in-message', 'error', LOST_SIGN_IN);
    $('password').focus();
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

  function cancelUploads() {
    for (const key of ['checkXhr', 'applyXhr']) {
      if (state[key]) state[key].abort();
    }
  }

  // ---------------------------------------------------------------- reading the file

  /** What a file that is not CSV text is, from its first bytes, or null. */
  function notCsv(bytes, encodingChoice) {
    const starts = (...sig) => sig.every((b, i) => bytes[i] === (typeof b === 'string' ? b.charCodeAt(0) : b));
    if (starts(0x50, 0x4b, 0x03, 0x04)) {
      return 'it is a ZIP archive, as an Excel (.xlsx) or LibreOffice (.ods) spreadsheet is. '
        + 'Open it and save the sheet as "CSV UTF-8", then pick that file';
    }
    if (starts(0xd0, 0xcf, 0x11, 0xe0)) {
      return 'it is an old Excel (.xls) workbook. Open it and save the sheet as "CSV UTF-8", then pick that file';
    }
    if (starts('%', 'P', 'D', 'F')) return 'it is a PDF document';
    if (starts(0x89, 'P', 'N', 'G') || starts(0xff, 0xd8, 0xff) || starts('G', 'I', 'F', '8')) return 'it is an image';
    if (starts(0x1f, 0x8b)) return 'it is compressed (gzip): uncompress it first';
    const utf16 = starts(0xff, 0xfe) || starts(0xfe, 0xff) || encodingChoice.startsWith('utf-16');
    if (!utf16) {
      const n = Math.min(bytes.length, 8192);
      let zeros = 0;
      let controls = 0;
      for (let i = 0; i < n; i++) {
        const b = bytes[i];
        if (b === 0) zeros++;
        else if (b < 32 && b !== 9 && b !== 10 && b !== 13 && b !== 12) controls++;
      }
      if (zeros > 0) {
        return 'it holds binary data (NUL bytes), not text. If it is UTF-16 text without a byte-order '
          + 'mark, choose UTF-16LE or UTF-16BE under Encoding';
      }
      if (controls > n / 20) return 'it holds binary data, not text';
    }
    return null;
  }

  const ENCODING_NAMES = {
    'utf-8': 'UTF-8',
    'windows-1252': 'Windows-1252',
    'iso-8859-15': 'ISO-8859-15',
    'iso-8859-1': 'ISO-8859-1',
    'utf-16le': 'UTF-16LE',
    'utf-16be': 'UTF-16BE',
  };

  /**
   * The file's encoding: a byte-order mark decides; else the choice in the page; else
   * UTF-8 if the start of the file is valid UTF-8, and Windows-1252 (what Excel writes as
   * "CSV" on Windows) if not. `charset` is what the upload announces (none: UTF-8 or a BOM,
   * which the server reads itself).
   */
  function detectEncoding(bytes, choice, complete) {
    const bom = (a, b, c) => bytes[0] === a && bytes[1] === b && (c === undefined || bytes[2] === c);
    if (choice === 'auto') {
      if (bom(0xef, 0xbb, 0xbf)) return { label: 'utf-8', shown: 'UTF-8 (with a byte-order mark)', charset: null };
      if (bom(0xff, 0xfe)) return { label: 'utf-16le', shown: 'UTF-16LE (byte-order mark)', charset: null };
      if (bom(0xfe, 0xff)) return { label: 'utf-16be', shown: 'UTF-16BE (byte-order mark)', charset: null };
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: !complete });
        return { label: 'utf-8', shown: 'UTF-8 (detected)', charset: null };
      } catch (e) {
        return {
          label: 'windows-1252',
          shown: 'Windows-1252 (detected: the file is not UTF-8)',
          charset: 'windows-1252',
          note: 'The file is not UTF-8 (Excel on Windows saves "CSV" this way), so it is read as '
            + 'Windows-1252. If accents look wrong in the preview, choose its encoding above.',
        };
      }
    }
    return {
      label: choice,
      shown: (ENCODING_NAMES[choice] || choice) + ' (chosen)',
      charset: choice === 'utf-8' ? null : choice,
    };
  }

  const DELIMITERS = [',', ';', '\t', '|'];
  const DELIMITER_NAMES = { ',': 'comma (,)', ';': 'semicolon (;)', '\t': 'tab', '|': 'pipe (|)' };

  /** The delimiter the header line uses most (ties in the server's order of preference). */
  function sniffDelimiter(text) {
    const end = text.indexOf('\n');
    const first = end < 0 ? text : text.slice(0, end);
    let best = ',';
    let most = 0;
    for (const d of DELIMITERS) {
      const n = first.split(d).length - 1;
      if (n > most) {
        best = d;
        most = n;
      }
    }
    return best;
  }

  const LF = 10;
  const CR = 13;
  const QUOTE = 34;

  /**
   * A CSV reader fed text in pieces, read as the server's CSV reader reads it: a quote opens
   * a quoted field only at the field's start, "" inside one is a quote, LF, CR or CRLF end a
   * record, blank lines are skipped. Each record comes with the physical line it starts on
   * (the header is line 1), which is how the report places a row, and its row number
   * (header 0; a blank line after the header counts as a row, as the server counts it).
   * `want(line, row)` says at a record's start whether its cells are needed: the cells of
   * the others are not kept, so a scan of a large file for a few records is quick.
   * `onRecord` returning false stops the reader.
   */
  class CsvReader {
    constructor(delimiter, onRecord, want) {
      this.d = delimiter.charCodeAt(0);
      this.onRecord = onRecord;
      this.want = want || (() => true);
      this.state = 0; // 0 record start, 1 field start, 2 in a field, 3 in quotes, 4 quote in quotes
      this.line = 1;
      this.row = -1;
      this.afterCR = false;
      this.cells = [];
      this.field = '';
      this.keep = true;
      this.start = 1;
      this.stopped = false;
    }

    push() {
      if (this.keep) this.cells.push(this.field);
      this.field = '';
    }

    endRecord(c) {
      this.push();
      if (this.keep && this.onRecord(this.cells, this.start, this.row) === false) this.stopped = true;
      this.cells = [];
      this.state = 0;
      this.afterCR = c === CR;
      if (c === LF) this.line++;
    }

    feed(text) {
      const d = this.d;
      for (let i = 0; i < text.length && !this.stopped; i++) {
        const c = text.charCodeAt(i);
        switch (this.state) {
          case 0:
            if (c === LF) {
              if (!this.afterCR && this.row >= 0) this.row++;
              this.afterCR = false;
              this.line++;
              continue;
            }
            if (c === CR) {
              if (this.row >= 0) this.row++;
              this.afterCR = true;
              continue;
            }
            this.afterCR = false;
            this.start = this.line;
            this.row++;
            this.keep = this.want(this.start, this.row);
            this.state = 1;
          // falls through: the character starts the first field
          case 1:
            if (c === QUOTE) this.state = 3;
            else if (c === d) this.push();
            else if (c === LF || c === CR) this.endRecord(c);
            else {
              if (this.keep) this.field += text[i];
              this.state = 2;
            }
            break;
          case 2:
            if (c === d) {
              this.push();
              this.state = 1;
            } else if (c === LF || c === CR) this.endRecord(c);
            else if (this.keep) this.field += text[i];
            break;
          case 3:
            if (c === QUOTE) this.state = 4;
            else {
              if (c === LF) this.line++;
              if (this.keep) this.field += text[i];
            }
            break;
          default:
            if (c === QUOTE) {
              if (this.keep) this.field += '"';
              this.state = 3;
            } else if (c === d) {
              this.push();
              this.state = 1;
            } else if (c === LF || c === CR) this.endRecord(c);
            else {
              if (this.keep) this.field += text[i];
              this.state = 2;
            }
        }
      }
    }

    /** The end of the input: a last record without a line break ends here. */
    end() {
      if (this.state !== 0 && !this.stopped) this.endRecord(-1);
    }
  }

  /** The header and the first rows of `text` (the start of the file, or all of it). */
  function readHead(text, complete, delimiter) {
    const head = { delimiter: delimiter || sniffDelimiter(text), header: null, rows: [], more: !complete };
    const reader = new CsvReader(head.delimiter, (cells, line, row) => {
      if (row === 0) head.header = cells;
      else if (head.rows.length < PREVIEW_ROWS) head.rows.push({ line, row, cells });
      else {
        head.more = true;
        return false;
      }
      return true;
    });
    reader.feed(text);
    if (complete) reader.end();
    return head;
  }

  /** A CSV record as the server's CSV writer writes it (quotes only where needed). */
  function csvRecord(cells, delimiter) {
    if (cells.length === 1 && cells[0] === '') return '""\n';
    return cells.map((c) => (c.includes(delimiter) || /["\r\n]/.test(c)
      ? '"' + c.replace(/"/g, '""') + '"' : c)).join(delimiter) + '\n';
  }

  function size(bytes) {
    if (bytes < 1024) return `${bytes} bytes`;
    if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
    if (bytes < 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
    return `${(bytes / 1024 / 1024 / 1024).toFixed(2)} GiB`;
  }

  const plural = (n, one, many) => `${n.toLocaleString('en')} ${n === 1 ? one : (many || one + 's')}`;

  // ---------------------------------------------------------------- picking a file

  function action() {
    return document.querySelector('input[name="action"]:checked').value;
  }

  function policy() {
    return document.querySelector('input[name="policy"]:checked').value;
  }

  function resetFile() {
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
  async function chooseFile(file) {
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

  // ---------------------------------------------------------------- the check (dry run)

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

  // ---------------------------------------------------------------- the preview

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

  function renderPreview() {
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

  function setApplyHint() {
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

  // ---------------------------------------------------------------- import / update

  async function apply() {
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

  function showResultText(kind, text) {
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

  function showResult(report, mode) {
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

  // ---------------------------------------------------------------- downloads

  /** Offers `parts` as a file named `name` (an object URL, freed once the click is done). */
  function save(name, parts, type) {
    const url = URL.createObjectURL(new Blob(parts, { type }));
    const a = el('a', { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }

  function downloadErrors() {
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
  async function downloadRejects() {
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

  async function exportUsers() {
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

  // ---------------------------------------------------------------- the users table

  const USER_COLUMNS = [
    ['firstname', 'First name'], ['lastname', 'Last name'], ['email', 'Email'], ['exten', 'Number'],
    ['context', 'Context'], ['line_protocol', 'Line'], ['username', 'Username'], ['uuid', 'UUID'],
  ];

  async function loadUsers() {
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

  // ---------------------------------------------------------------- recent changes

  // Every write is a batch in the server's history (GET /1.1/batches); undo takes a whole
  // batch back in one transaction (POST /1.1/batches/{id}/undo), after a preview that is
  // the same request with dry_run (the server writes nothing and says what it would do).

  const BATCHES_SHOWN = 10;

  /** A POST of the API with no body; resolves with { status, body } for any answer. */
  async function post(path) {
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

  async function loadBatches() {
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

  async function confirmUndo() {
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

  function cancelUndo() {
    state.undo = null;
    $('undo-preview').hidden = true;
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
})();
