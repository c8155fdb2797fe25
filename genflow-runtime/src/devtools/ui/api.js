// The reflection API (/api/actions, /api/runAction, /api/cancelAction, /api/__health) and
// genflow's trace read API (/api/traces), on the origin that served the page.

/** gRPC status codes by number, as Genkit's errors carry them. */
export const STATUS = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND',
  'ALREADY_EXISTS', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED',
  'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
];

async function getJson(path) {
  const response = await fetch(path, { cache: 'no-store' });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    throw new Error(body?.message || body?.error?.message || `${path}: HTTP ${response.status}`);
  }
  return body;
}

/** Every action descriptor, keyed `/<type>/<name>`. */
export const actions = () => getJson('/api/actions');
/** The newest traces, newest first. */
export const traces = (limit = 100) => getJson(`/api/traces?limit=${limit}`);
/** One trace with its span tree. */
export const trace = (id) => getJson(`/api/traces/${encodeURIComponent(id)}`);
/** Where the flow server listens, when the runtime knows (`{flowServer}`). */
export const config = () => getJson('/ui/config.json').catch(() => ({}));

/** Whether the runtime answers; never throws. */
export async function healthy() {
  try {
    return (await fetch('/api/__health', { cache: 'no-store' })).ok;
  } catch {
    return false;
  }
}

/** Asks the runtime to cancel the run of `traceId`. */
export function cancel(traceId) {
  return fetch('/api/cancelAction', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ traceId }),
  });
}

/** An error body in Genkit's shape (`{error: {code, message, details}}` or the bare object). */
function errorOf(body) {
  if (body && typeof body === 'object') {
    if (body.error && typeof body.error === 'object') return body.error;
    if ('code' in body && 'message' in body && !('result' in body)) return body;
  }
  return null;
}

/** A final NDJSON line: `{result, telemetry}` or `{error}`. */
function terminal(line) {
  if (!line || typeof line !== 'object' || Array.isArray(line)) return false;
  const keys = Object.keys(line);
  return (
    (keys.includes('error') && keys.length === 1) ||
    (keys.includes('telemetry') && keys.every((k) => k === 'result' || k === 'telemetry'))
  );
}

/**
 * Runs an action. `onTrace(traceId)` fires as soon as the headers arrive, `onChunk(chunk)` for
 * each streamed chunk. Resolves to `{result}` or `{error, httpStatus}`, always with `traceId`.
 */
export async function run(key, input, { stream, signal, onChunk = () => {}, onTrace = () => {} }) {
  const response = await fetch(`/api/runAction${stream ? '?stream=true' : ''}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key, input }),
    signal,
  });
  let traceId = response.headers.get('x-genkit-trace-id') || undefined;
  if (traceId) onTrace(traceId);
  const done = (body) => {
    traceId = body?.telemetry?.traceId || errorOf(body)?.details?.traceId || traceId;
    const error = errorOf(body);
    if (error || !response.ok) {
      return { error: error || { message: `HTTP ${response.status}` }, httpStatus: response.status, traceId };
    }
    return { result: body?.result, traceId };
  };
  const type = response.headers.get('content-type') || '';
  if (!stream || !response.ok || type.includes('application/json')) {
    return done(await response.json().catch(() => null));
  }
  // NDJSON: one chunk per line, the last line is the result or the error. A line shaped like a
  // terminal one is held back until the next line shows it was a chunk after all.
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let held = null;
  const take = (text) => {
    if (!text.trim()) return;
    const line = JSON.parse(text);
    if (held !== null) onChunk(held);
    held = null;
    if (terminal(line)) held = line;
    else onChunk(line);
  };
  for (;;) {
    const { value, done: ended } = await reader.read();
    if (ended) break;
    buffer += value;
    let newline;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      take(buffer.slice(0, newline));
      buffer = buffer.slice(newline + 1);
    }
  }
  take(buffer);
  return done(held ?? { error: { code: 14, message: 'the stream ended without a result' } });
}
