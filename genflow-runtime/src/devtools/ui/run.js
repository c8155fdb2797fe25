// The run panel of one action: the generated form (or raw JSON), the inputs of earlier runs,
// the live stream, the result or structured error, and this action's past runs (re-run, open
// trace, compare two).

import * as api from './api.js';
import { header } from './actions.js';
import { diffView } from './diff.js';
import { FormError, form } from './form.js';
import { clock, copy, duration, h, json, load, mount, save } from './dom.js';

const RUNS = 'genflow.devui.runs';
const MAX_RUNS = 50;
const MAX_INPUTS = 15;
const inputsKey = (key) => `genflow.devui.inputs.${key}`;

/** Past runs of every action, newest first. */
export const pastRuns = () => load(RUNS, []);

/** Outputs over this many characters are not kept in localStorage (its quota is ~5 MB). */
const MAX_KEPT = 200_000;

function remember(run) {
  const kept = JSON.stringify(run.result ?? null).length > MAX_KEPT ? { ...run, result: '(output over 200 KB: not kept)' } : run;
  save(RUNS, [kept, ...pastRuns()].slice(0, MAX_RUNS));
  const text = JSON.stringify(run.input);
  const inputs = load(inputsKey(run.key), []).filter((i) => JSON.stringify(i) !== text);
  save(inputsKey(run.key), [run.input, ...inputs].slice(0, MAX_INPUTS));
}

const quote = (text) => `'${text.replace(/'/g, `'\\''`)}'`;

/** A curl command for the run: the flow server's own route for flows, else the reflection API. */
export function curl(action, input, flowServer) {
  const streams = action.streamSchema !== undefined && action.streamSchema !== null;
  if (action.key.startsWith('/flow/') && flowServer) {
    const body = JSON.stringify({ data: input ?? null });
    return [
      `curl -sS${streams ? 'N' : ''} ${quote(`${flowServer}/${action.name}`)}`,
      `  -H 'content-type: application/json'${streams ? " -H 'accept: text/event-stream'" : ''}`,
      `  -d ${quote(body)}`,
    ].join(' \\\n');
  }
  const body = JSON.stringify({ key: action.key, input: input ?? null });
  return [
    `curl -sS${streams ? 'N' : ''} ${quote(`${location.origin}/api/runAction${streams ? '?stream=true' : ''}`)}`,
    `  -H 'content-type: application/json'`,
    `  -d ${quote(body)}`,
  ].join(' \\\n');
}

/** The error box: status, message, each violation with its JSON path, the details. */
export function errorBox(error, httpStatus) {
  const details = error.details && typeof error.details === 'object' ? error.details : {};
  const status =
    typeof error.status === 'string'
      ? error.status
      : typeof details.status === 'string'
        ? details.status
        : api.STATUS[error.code] || `code ${error.code ?? '?'}`;
  const violations = Array.isArray(details.errors) ? details.errors : [];
  const { stack, ...rest } = details;
  return h(
    'div.error',
    { role: 'alert' },
    h('div.error-head', {}, h('span.status.bad', {}, status), httpStatus && httpStatus !== 200 ? h('span.muted', {}, ` HTTP ${httpStatus}`) : null),
    h('p.message', {}, error.message || '(no message)'),
    violations.length
      ? h(
          'table.violations',
          {},
          h('thead', {}, h('tr', {}, h('th', {}, 'path'), h('th', {}, 'violation'))),
          h(
            'tbody',
            {},
            violations.map((v) => h('tr', {}, h('td', {}, h('code.path', {}, v.path || '/')), h('td', {}, v.message ?? JSON.stringify(v)))),
          ),
        )
      : null,
    Object.keys(rest).length ? h('details', {}, h('summary', {}, 'details'), json(rest)) : null,
    stack ? h('details', {}, h('summary', {}, 'stack'), h('pre.json', {}, stack)) : null,
  );
}

/** The panel of `action`; `ctx` is `{flowServer, openTrace(id)}`. */
export function runPanel(action, ctx) {
  const streams = action.streamSchema !== undefined && action.streamSchema !== null;
  const generated = form(action.inputSchema);
  const raw = h('textarea.code.raw', { rows: 10, spellcheck: false, hidden: true, ariaLabel: 'input as JSON' });
  let rawMode = false;
  const note = h('p.note', { role: 'status' });

  const readInput = () => (rawMode ? (raw.value.trim() === '' ? undefined : JSON.parse(raw.value)) : generated.get());
  const writeInput = (value) => {
    if (rawMode) raw.value = JSON.stringify(value ?? null, null, 2);
    else generated.set(value);
  };
  const toggle = h('button.small', {
    type: 'button',
    onclick() {
      try {
        if (rawMode) {
          const value = readInput();
          rawMode = false;
          generated.set(value);
        } else {
          raw.value = JSON.stringify(generated.get() ?? null, null, 2);
          rawMode = true;
        }
        note.textContent = '';
      } catch (error) {
        note.textContent = error.message;
      }
      raw.hidden = !rawMode;
      generated.el.hidden = rawMode;
      toggle.textContent = rawMode ? 'Form' : 'JSON';
    },
  }, 'JSON');

  const earlier = h('select.earlier', { ariaLabel: 'earlier inputs', onchange() {
    if (earlier.value === '') return;
    writeInput(load(inputsKey(action.key), [])[Number(earlier.value)]);
    earlier.value = '';
  } });
  const fillEarlier = () => {
    const inputs = load(inputsKey(action.key), []);
    mount(
      earlier,
      h('option', { value: '' }, inputs.length ? `Earlier inputs (${inputs.length})` : 'No earlier inputs'),
      inputs.map((input, i) => h('option', { value: String(i) }, JSON.stringify(input).slice(0, 80))),
    );
    earlier.disabled = inputs.length === 0;
  };
  fillEarlier();

  const output = h('div.output');
  const runsBox = h('div.runs');
  const diffBox = h('div.diff-box');
  let controller = null;
  const runButton = h('button.primary', { type: 'submit' }, 'Run');
  const cancelButton = h('button', { type: 'button', hidden: true }, 'Cancel');

  async function start(input) {
    controller = new AbortController();
    runButton.disabled = true;
    cancelButton.hidden = false;
    const status = h('span.status.running', {}, 'running');
    const traceSlot = h('span');
    const chunks = h('ol.chunks');
    const chunkCount = h('span.muted');
    const resultSlot = h('div.result');
    mount(
      output,
      h('div.run-head', {}, status, ' ', h('span.elapsed'), traceSlot),
      streams ? h('section.stream', {}, h('h4', {}, 'Stream ', chunkCount), chunks) : null,
      resultSlot,
    );
    const began = performance.now();
    let traceId;
    cancelButton.onclick = () => controller.abort();
    const showTrace = (id) => {
      traceId = id;
      mount(traceSlot, ' ', h('a.open-trace', { href: `#/trace/${id}` }, 'Open trace'));
      cancelButton.onclick = () => api.cancel(id);
    };
    let count = 0;
    const outcome = await api
      .run(action.key, input, {
        stream: streams,
        signal: controller.signal,
        onTrace: showTrace,
        onChunk(chunk) {
          count += 1;
          chunkCount.textContent = `(${count})`;
          chunks.append(h('li.chunk', {}, typeof chunk === 'string' ? chunk : JSON.stringify(chunk)));
          chunks.scrollTop = chunks.scrollHeight;
        },
      })
      .catch((error) => ({ error: { code: 14, message: `request failed: ${error.message}` } }));
    const ms = performance.now() - began;
    if (outcome.traceId && outcome.traceId !== traceId) showTrace(outcome.traceId);
    output.querySelector('.elapsed').textContent = duration(ms);
    if (outcome.error) {
      status.textContent = 'error';
      status.className = 'status bad';
      mount(resultSlot, errorBox(outcome.error, outcome.httpStatus));
    } else {
      status.textContent = 'success';
      status.className = 'status ok';
      mount(resultSlot, h('h4', {}, 'Result'), json(outcome.result, 'result-json'));
    }
    remember({
      id: `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`,
      key: action.key,
      at: Date.now(),
      ms,
      input,
      chunks: count,
      result: outcome.result,
      error: outcome.error,
      traceId: outcome.traceId,
    });
    runButton.disabled = false;
    cancelButton.hidden = true;
    fillEarlier();
    renderRuns();
  }

  function submit(event) {
    event.preventDefault();
    let input;
    try {
      input = readInput();
    } catch (error) {
      note.textContent = error instanceof FormError ? `Input: ${error.message}` : `Input is not JSON: ${error.message}`;
      return;
    }
    note.textContent = '';
    start(input);
  }

  const picked = new Set();
  function renderRuns() {
    const runs = pastRuns().filter((r) => r.key === action.key);
    for (const id of picked) if (!runs.some((r) => r.id === id)) picked.delete(id);
    const compare = h('button.small', {
      type: 'button',
      disabled: picked.size !== 2,
      onclick() {
        const [a, b] = runs.filter((r) => picked.has(r.id)).reverse();
        const side = (r) =>
          r.error ? { error: { code: r.error.code, message: r.error.message, violations: r.error.details?.errors } } : r.result;
        mount(diffBox, diffView(side(a), side(b), `${clock(a.at)} (older)`, clock(b.at)));
      },
    }, 'Compare outputs');
    mount(
      runsBox,
      h('h4', {}, 'Runs ', h('small.muted', {}, 'tick two to compare'), ' ', compare),
      runs.length === 0
        ? h('p.muted', {}, 'No runs yet.')
        : h(
            'table.run-list',
            {},
            h('tbody', {}, runs.map((r) =>
              h(
                'tr',
                { dataset: { run: r.id } },
                h('td', {}, h('input', {
                  type: 'checkbox',
                  ariaLabel: 'compare',
                  checked: picked.has(r.id),
                  onchange(event) {
                    if (event.target.checked) picked.add(r.id);
                    else picked.delete(r.id);
                    compare.disabled = picked.size !== 2;
                  },
                })),
                h('td', {}, clock(r.at)),
                h('td', {}, h(`span.status.${r.error ? 'bad' : 'ok'}`, {}, r.error ? api.STATUS[r.error.code] || 'error' : 'success')),
                h('td.num', {}, duration(r.ms)),
                h('td.input-cell', { title: JSON.stringify(r.input) }, JSON.stringify(r.input ?? null).slice(0, 60)),
                h('td', {},
                  h('button.small', { type: 'button', onclick: () => { writeInput(r.input); start(r.input); } }, 'Re-run'),
                  r.traceId ? h('a.small', { href: `#/trace/${r.traceId}` }, 'Trace') : null),
              )),
            ),
          ),
    );
  }
  renderRuns();

  const curlButton = h('button', {
    type: 'button',
    async onclick() {
      try {
        const done = await copy(curl(action, readInput(), ctx.flowServer));
        note.textContent = done ? 'curl command copied' : 'copy failed';
      } catch (error) {
        note.textContent = error.message;
      }
    },
  }, 'Copy as curl');

  return h(
    'div.run-panel',
    {},
    header(action),
    h(
      'form.input',
      { onsubmit: submit, noValidate: true },
      h('div.input-head', {}, h('h3', {}, 'Input'), earlier, toggle),
      generated.el,
      raw,
      h('div.buttons', {}, runButton, cancelButton, curlButton, note),
    ),
    output,
    runsBox,
    diffBox,
  );
}
