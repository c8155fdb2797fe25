// DOM helpers: elements are built with properties and text nodes, never from HTML strings, so
// flow inputs and outputs cannot inject markup.

/** `h('div.a.b', {onclick}, child, ...)`: an element with classes, properties and children. */
export function h(tag, props, ...children) {
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name || 'div');
  if (classes.length) el.className = classes.join(' ');
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key in el && key !== 'list') el[key] = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces the children of `el`. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Pretty JSON in a `<pre>`; `undefined` shows as a dash. */
export function json(value, cls = '') {
  const text = value === undefined ? '—' : JSON.stringify(value, null, 2);
  return h(`pre.json${cls ? '.' + cls : ''}`, {}, text);
}

/** `1234.5` ms as `1.23 s`, `12.3 ms` or `850 µs`. */
export function duration(ms) {
  if (!(ms >= 0)) return '—';
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 1) return `${ms.toFixed(ms >= 100 ? 0 : 1)} ms`;
  return `${Math.round(ms * 1000)} µs`;
}

/** A start time (ms since the epoch) as local `HH:MM:SS`, with the date when not today. */
export function clock(ms) {
  const at = new Date(ms);
  const time = at.toLocaleTimeString([], { hour12: false });
  return at.toDateString() === new Date().toDateString() ? time : `${at.toLocaleDateString()} ${time}`;
}

/** Copies text to the clipboard; falls back to a selected textarea where the API is missing. */
export async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = h('textarea', { value: text });
    document.body.append(area);
    area.select();
    const done = document.execCommand('copy');
    area.remove();
    return done;
  }
}

/** Reads a JSON value from localStorage, or `fallback`. */
export function load(key, fallback) {
  try {
    return JSON.parse(localStorage.getItem(key)) ?? fallback;
  } catch {
    return fallback;
  }
}

/** Writes a JSON value to localStorage, ignoring a full or disabled store. */
export function save(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // storage full or disabled: history is a convenience
  }
}
