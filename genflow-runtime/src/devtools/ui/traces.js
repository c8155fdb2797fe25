// The trace list (newest first) and one trace: its span tree with a timeline bar per span, and
// the selected span's input, output, timing, token usage, error and attributes.

import * as api from './api.js';
import { clock, duration, h, json, mount } from './dom.js';

const stateOf = (t) => t.state || 'unknown';

/** The list of the newest traces. */
export async function traceList() {
  const list = await api.traces(100);
  return h(
    'div.trace-list',
    {},
    h('header.bar', {}, h('h2', {}, 'Traces'), h('a.button.small', { href: `#/traces?t=${Date.now()}` }, 'Refresh')),
    list.length === 0
      ? h('p.muted', {}, 'No traces yet: run a flow.')
      : h(
          'table.traces',
          {},
          h('thead', {}, h('tr', {}, ['Name', 'Status', 'Duration', 'Start', 'Spans', 'Trace id'].map((t) => h('th', {}, t)))),
          h(
            'tbody',
            {},
            list.map((t) =>
              h(
                'tr',
                { dataset: { trace: t.traceId, start: t.startTime } },
                h('td', {}, h('a', { href: `#/trace/${t.traceId}` }, t.displayName || '(unnamed)')),
                h('td', {}, h(`span.status.${stateOf(t) === 'error' ? 'bad' : stateOf(t) === 'success' ? 'ok' : 'unknown'}`, {}, stateOf(t))),
                h('td.num', {}, duration(t.endTime - t.startTime)),
                h('td', {}, clock(t.startTime)),
                h('td.num', {}, t.spanCount),
                h('td', {}, h('code.muted', {}, t.traceId.slice(0, 12) + '…')),
              ),
            ),
          ),
        ),
  );
}

/** A `genkit:input`/`genkit:output` attribute: JSON text, shown parsed when it parses. */
function parsed(text) {
  if (typeof text !== 'string') return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function kindOf(span) {
  const a = span.attributes || {};
  return a['genkit:metadata:subtype'] || a['genkit:type'] || 'span';
}

const failed = (span) => span.status?.code === 2 || span.attributes?.['genkit:state'] === 'error';

function spanDetail(span, trace) {
  const a = span.attributes || {};
  const tokensIn = a['gen_ai.usage.input_tokens'];
  const tokensOut = a['gen_ai.usage.output_tokens'];
  const row = (label, value) => (value === undefined || value === '' ? null : h('tr', {}, h('th', {}, label), h('td', {}, value)));
  const { 'genkit:input': input, 'genkit:output': output, ...rest } = a;
  return h(
    'div.span-detail',
    { dataset: { span: span.spanId } },
    h('h3', {}, h('span.badge', { dataset: { kind: kindOf(span) } }, kindOf(span)), ' ', span.displayName),
    h(
      'table.facts',
      {},
      row('status', h(`span.status.${failed(span) ? 'bad' : 'ok'}`, {}, a['genkit:state'] || ['unset', 'ok', 'error'][span.status?.code] || '?')),
      row('duration', duration(span.endTime - span.startTime)),
      row('start', `${clock(span.startTime)} (+${duration(span.startTime - trace.startTime)})`),
      row('model', a['gen_ai.request.model']),
      row('provider', a['gen_ai.provider.name']),
      tokensIn !== undefined || tokensOut !== undefined
        ? row('tokens', h('span.tokens', {}, `${tokensIn ?? '?'} in · ${tokensOut ?? '?'} out`))
        : null,
      row('path', a['genkit:path'] ? h('code', {}, a['genkit:path']) : undefined),
      row('span id', h('code', {}, span.spanId)),
    ),
    failed(span) ? h('div.error', {}, h('span.status.bad', {}, 'error'), h('p.message', {}, span.status?.message || '(no message)')) : null,
    h('h4', {}, 'Input'),
    json(parsed(input), 'span-input'),
    h('h4', {}, 'Output'),
    json(parsed(output), 'span-output'),
    h('details', {}, h('summary', {}, 'All attributes'), json(rest)),
  );
}

/** One trace: the span tree with timeline bars, and the selected span's detail. */
export async function traceView(id) {
  const trace = await api.trace(id);
  const total = Math.max(trace.endTime - trace.startTime, 0.001);
  const detail = h('div.detail-pane');
  const rows = [];
  const select = (spanId) => {
    for (const row of rows) row.classList.toggle('current', row.dataset.span === spanId);
    const span = trace.spans[spanId];
    if (span) mount(detail, spanDetail(span, trace));
  };
  const walk = (node, depth) => {
    const span = trace.spans[node.spanId];
    if (!span) return;
    const left = ((span.startTime - trace.startTime) / total) * 100;
    const width = Math.max(((span.endTime - span.startTime) / total) * 100, 0.3);
    const bar = h(`span.span-bar${failed(span) ? '.bad' : ''}`, { dataset: { kind: kindOf(span) } });
    bar.style.left = `${left}%`;
    bar.style.width = `${Math.min(width, 100 - left)}%`;
    const label = h('span.span-name', {}, h('span.badge', { dataset: { kind: kindOf(span) } }, kindOf(span)), ' ', span.displayName);
    label.style.paddingLeft = `${depth * 1.1}rem`;
    const row = h(
      'li.span-row',
      { dataset: { span: span.spanId, kind: kindOf(span) }, tabIndex: 0, onclick: () => select(span.spanId), onkeydown: (e) => e.key === 'Enter' && select(span.spanId) },
      label,
      h('span.timeline', {}, bar),
      h('span.num', {}, duration(span.endTime - span.startTime)),
    );
    rows.push(row);
    for (const child of node.children) walk(child, depth + 1);
  };
  for (const root of trace.tree) walk(root, 0);
  const root = trace.tree[0] && trace.spans[trace.tree[0].spanId];
  if (root) select(root.spanId);
  return h(
    'div.trace-view',
    {},
    h(
      'header.bar',
      {},
      h('h2', {}, trace.displayName || 'Trace'),
      h('span.muted', {}, `${duration(total)} · ${clock(trace.startTime)} · ${rows.length} spans`),
      trace.droppedSpans ? h('span.status.bad', {}, `${trace.droppedSpans} spans dropped`) : null,
      h('code.muted', {}, trace.traceId),
      h('a.button.small', { href: '#/traces' }, 'All traces'),
    ),
    h('div.trace-body', {}, h('ol.span-tree', {}, rows), detail),
  );
}
