// A side-by-side line diff of two JSON values (keys sorted, so that key order is no change).

import { h } from './dom.js';

/** The value with object keys sorted, recursively. */
function sorted(value) {
  if (Array.isArray(value)) return value.map(sorted);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sorted(value[k])]));
  }
  return value;
}

const lines = (value) => (value === undefined ? ['—'] : JSON.stringify(sorted(value), null, 2).split('\n'));

/** Pairs of lines `[left, right]` (either may be null) from a longest-common-subsequence diff. */
export function diffLines(a, b) {
  const n = a.length;
  const m = b.length;
  if (n * m > 4_000_000) return a.map((l, i) => [l, b[i] ?? null]).concat(b.slice(n).map((l) => [null, l]));
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const pairs = [];
  // Each run of removed and added lines between two common ones shares rows, side by side.
  let removed = [];
  let added = [];
  const flush = () => {
    for (let k = 0; k < Math.max(removed.length, added.length); k++) pairs.push([removed[k] ?? null, added[k] ?? null]);
    removed = [];
    added = [];
  };
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      flush();
      pairs.push([a[i++], b[j++]]);
    } else if (j < m && (i === n || lcs[i][j + 1] >= lcs[i + 1][j])) added.push(b[j++]);
    else removed.push(a[i++]);
  }
  flush();
  return pairs;
}

/** The diff of `left` and `right`, headed by their labels. */
export function diffView(left, right, leftLabel, rightLabel) {
  const pairs = diffLines(lines(left), lines(right));
  const changed = pairs.filter(([l, r]) => l !== r).length;
  const kind = (text, other, lone) => (text === null ? 'gap' : text === other ? 'same' : other === null ? lone : 'chg');
  const cell = (text, other, lone) => h(`td.${kind(text, other, lone)}`, {}, text ?? '');
  return h(
    'section.diff',
    {},
    h('h4', {}, 'Output diff ', h('small.muted', {}, changed ? `${changed} changed line${changed > 1 ? 's' : ''}` : 'identical')),
    h(
      'table.diff-table',
      {},
      h('thead', {}, h('tr', {}, h('th', {}, leftLabel), h('th', {}, rightLabel))),
      h('tbody', {}, pairs.map(([l, r]) => h('tr', {}, cell(l, r, 'del'), cell(r, l, 'add')))),
    ),
  );
}
