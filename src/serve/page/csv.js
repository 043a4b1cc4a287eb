// Reading and writing CSV as the server does: what a file that is not CSV text is, its
// encoding and delimiter, a CSV reader fed text in pieces (for the preview's first rows
// and for rejects.csv), and a record written as the server's CSV writer writes it.

const PREVIEW_ROWS = 100; // rows shown in the preview table

/** What a file that is not CSV text is, from its first bytes, or null. */
export function notCsv(bytes, encodingChoice) {
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
export function detectEncoding(bytes, choice, complete) {
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
export const DELIMITER_NAMES = { ',': 'comma (,)', ';': 'semicolon (;)', '\t': 'tab', '|': 'pipe (|)' };

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
export class CsvReader {
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
export function readHead(text, complete, delimiter) {
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
export function csvRecord(cells, delimiter) {
  if (cells.length === 1 && cells[0] === '') return '""\n';
  return cells.map((c) => (c.includes(delimiter) || /["\r\n]/.test(c)
    ? '"' + c.replace(/"/g, '""') + '"' : c)).join(delimiter) + '\n';
}
