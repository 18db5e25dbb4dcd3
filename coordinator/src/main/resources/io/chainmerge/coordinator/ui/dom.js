// Building the page from data: text goes in as text only (textContent), never as markup. File names and
// messages come from disks and workers, so they may hold anything.

/** An element with attributes and children; strings among the children become text nodes. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces what {@code node} holds. */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function bytes(value) {
  if (value === undefined || value === null) return '';
  let v = Number(value);
  let unit = 0;
  while (Math.abs(v) >= 1024 && unit < UNITS.length - 1) {
    v /= 1024;
    unit++;
  }
  return (unit === 0 ? String(v) : v.toFixed(1)) + ' ' + UNITS[unit];
}

export function rate(bytesPerSecond) {
  return bytesPerSecond ? bytes(bytesPerSecond) + '/s' : '';
}

export function duration(seconds) {
  if (seconds === undefined || seconds === null || !isFinite(seconds)) return '';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return s + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
  return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
}

/** The seconds of an ISO-8601 duration as Java writes it (PT1H2M3.5S); null when it is not one. */
export function isoSeconds(text) {
  const m = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?$/.exec(text || '');
  return m ? (+m[1] || 0) * 3600 + (+m[2] || 0) * 60 + (+m[3] || 0) : null;
}

/** An ISO-8601 duration as Java writes it (PT1H2M3.5S), for people. */
export function isoDuration(text) {
  const seconds = isoSeconds(text);
  return seconds === null ? (text || '') : duration(seconds);
}

export function time(iso) {
  return iso ? new Date(iso).toLocaleString() : '';
}

export function table(headers, rows, attributes = {}) {
  return el('table', attributes,
    el('thead', {}, el('tr', {}, headers.map((h) => el('th', {}, h)))),
    el('tbody', {}, rows));
}

export function figure(label, value, id) {
  return el('div', { class: 'figure' },
    el('div', { class: 'value', id }, value),
    el('div', { class: 'label' }, label));
}
