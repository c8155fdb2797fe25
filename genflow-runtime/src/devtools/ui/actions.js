// The action list (grouped by kind, filterable) and an action's header: description, key and
// schemas.

import { h, json, mount } from './dom.js';

const KINDS = { flow: 'Flows', tool: 'Tools', model: 'Models', prompt: 'Prompts', util: 'Utilities' };

/** `/flow/ragQuery` -> `flow`. */
export const kindOf = (key) => key.split('/')[1] || 'other';

/** Renders the sidebar list into `el`; `selected` is the current key. */
export function renderList(el, actions, selected, filter = '') {
  const needle = filter.trim().toLowerCase();
  const byKind = new Map();
  for (const action of Object.values(actions).sort((a, b) => a.key.localeCompare(b.key))) {
    const hay = `${action.key} ${action.description || ''}`.toLowerCase();
    if (needle && !hay.includes(needle)) continue;
    const kind = kindOf(action.key);
    if (!byKind.has(kind)) byKind.set(kind, []);
    byKind.get(kind).push(action);
  }
  const order = [...Object.keys(KINDS), ...[...byKind.keys()].filter((k) => !(k in KINDS)).sort()];
  mount(
    el,
    byKind.size === 0 ? h('p.muted.pad', {}, needle ? 'No action matches.' : 'No actions registered.') : null,
    order
      .filter((kind) => byKind.has(kind))
      .map((kind) =>
        h(
          'section.kind',
          { dataset: { kind } },
          h('h3', {}, KINDS[kind] || kind, h('span.count', {}, byKind.get(kind).length)),
          h(
            'ul',
            {},
            byKind.get(kind).map((action) =>
              h(
                'li',
                {},
                h(
                  'a.action',
                  {
                    href: `#/action${action.key}`,
                    className: action.key === selected ? 'action current' : 'action',
                    dataset: { key: action.key },
                    title: action.description || action.key,
                  },
                  h('span.name', {}, action.name || action.key),
                  action.description ? h('small', {}, action.description) : null,
                ),
              ),
            ),
          ),
        ),
      ),
  );
}

/** An action's title, description and schemas (folded). */
export function header(action) {
  const schema = (label, value) =>
    value === undefined || value === null ? null : h('details.schema', {}, h('summary', {}, label), json(value));
  return h(
    'header.action-head',
    {},
    h('h2', {}, h('span.badge', { dataset: { kind: kindOf(action.key) } }, kindOf(action.key)), ' ', action.name),
    h('code.key', {}, action.key),
    action.description ? h('p.description', {}, action.description) : null,
    h(
      'div.schemas',
      {},
      schema('Input schema', action.inputSchema),
      schema('Output schema', action.outputSchema),
      schema('Stream schema', action.streamSchema),
      action.metadata && Object.keys(action.metadata).length ? schema('Metadata', action.metadata) : null,
    ),
  );
}
