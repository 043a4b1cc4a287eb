// Small helpers of the page's DOM and words: an element by id, an element built without
// parsing HTML, a symbol with words for a screen reader, a message shown or hidden, a file
// offered for download, a size and a count in words.

export const $ = (id) => document.getElementById(id);

/** An element with properties and children (text or nodes); never parses HTML. */
export function el(tag, props, ...children) {
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
export function sym(symbol, words) {
  return [el('span', { class: 'sym', 'aria-hidden': 'true', text: symbol }),
    el('span', { class: 'visually-hidden', text: words })];
}

/** Shows `text` in the message element `id` (kind: error, warn, ok, or plain). */
export function say(id, kind, text) {
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

/** Offers `parts` as a file named `name` (an object URL, freed once the click is done). */
export function save(name, parts, type) {
  const url = URL.createObjectURL(new Blob(parts, { type }));
  const a = el('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

export function size(bytes) {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return `${(bytes / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}

export const plural = (n, one, many) => `${n.toLocaleString('en')} ${n === 1 ? one : (many || one + 's')}`;
