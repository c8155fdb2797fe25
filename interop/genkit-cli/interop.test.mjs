// Genkit's own CLI (npm genkit-cli, pinned by package-lock.json) against the genflow quickstart
// in dev mode: the CLI discovers the runtime by its runtime file, runs flows over the reflection
// API (plain and --stream), and its telemetry server receives the traces. Cancellation, which
// the CLI has no command for, goes through the reflection API's cancelAction with fetch.
//
// QUICKSTART_BIN names the built quickstart binary (run.sh sets it).

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort, sleep } from '../lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const GENKIT = join(here, 'node_modules', '.bin', 'genkit');
const QUESTION = JSON.stringify({ question: 'How do tools work?' });

/** A project directory the CLI takes as its root (package.json), with a HOME of its own. */
function project(name) {
  const dir = mkdtempSync(join(tmpdir(), `genflow-genkit-cli-${name}-`));
  writeFileSync(join(dir, 'package.json'), '{}\n');
  return dir;
}

/** Starts the quickstart in dev mode in `dir`; resolves once its runtime file is written. */
async function startRuntime(dir, env = {}) {
  const bin = process.env.QUICKSTART_BIN;
  assert.ok(bin, 'QUICKSTART_BIN must name the quickstart binary');
  const child = spawn(bin, [], {
    cwd: dir,
    env: {
      ...process.env,
      GENKIT_ENV: 'dev',
      PORT: String(await freePort()),
      GENKIT_REFLECTION_PORT: String(await freePort()),
      RUST_LOG: 'warn',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const runtimes = join(dir, '.genkit', 'runtimes');
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`quickstart exited with ${child.exitCode}`);
    const files = existsSync(runtimes) ? readdirSync(runtimes) : [];
    if (files.length === 1) {
      const file = join(runtimes, files[0]);
      const info = JSON.parse(readFileSync(file, 'utf8'));
      return { child, file, info };
    }
    await sleep(100);
  }
  throw new Error('the quickstart wrote no runtime file');
}

/** Stops a runtime with SIGTERM; it must exit cleanly and delete its runtime file. */
async function stopRuntime(runtime) {
  if (runtime.child.exitCode !== null) return;
  const exited = once(runtime.child, 'exit');
  runtime.child.kill('SIGTERM');
  const [code, signal] = await exited;
  assert.equal(signal, null);
  assert.equal(code, 0);
  assert.equal(existsSync(runtime.file), false, 'the runtime file is deleted on SIGTERM');
}

/** Runs the Genkit CLI in `dir` without prompts, analytics or update checks. */
function genkit(dir, args) {
  return new Promise((resolve, reject) => {
    execFile(
      GENKIT,
      ['--non-interactive', '--no-update-notification', ...args],
      {
        cwd: dir,
        env: {
          ...process.env,
          HOME: join(dir, 'home'),
          XDG_CONFIG_HOME: join(dir, 'home', '.config'),
          GENKIT_CLI_DISABLE_UPDATE_NOTIFICATIONS: 'true',
        },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`genkit ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
        else resolve(`${stdout}\n${stderr}`);
      }
    );
  });
}

/** The result JSON and trace id `genkit flow:run` printed. */
function parseRun(output) {
  const match = output.match(/Result:\s*\n([\s\S]*?)\n.*Trace ID:\S*\s+([0-9a-f]{32})/);
  assert.ok(match, `no result and trace id in:\n${output}`);
  return { result: JSON.parse(match[1]), traceId: match[2], before: output.slice(0, match.index) };
}

let dir;
let runtime;

before(async () => {
  dir = project('runs');
  runtime = await startRuntime(dir);
});

after(async () => {
  if (runtime) await stopRuntime(runtime);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the runtime file is what the CLI expects', async () => {
  const { info } = runtime;
  assert.equal(info.pid, runtime.child.pid);
  assert.equal(info.reflectionApiSpecVersion, 1);
  assert.match(info.genkitVersion, /^rust\//);
  const health = await fetch(`${info.reflectionServerUrl}/api/__health?id=${info.id}`);
  assert.equal(health.status, 200);
  const other = await fetch(`${info.reflectionServerUrl}/api/__health?id=someone-else`);
  assert.equal(other.status, 503);
});

test('genkit flow:run runs ragQuery, and its telemetry server keeps the trace', async () => {
  const output = await genkit(dir, ['flow:run', 'ragQuery', QUESTION]);
  const { result, traceId } = parseRun(output);
  assert.equal(typeof result.answer, 'string');
  assert.ok(result.citations.includes('tools'), output);
  // The CLI notified the runtime of the telemetry server it started (it stores traces under
  // the project root); the runtime posted the run's spans before answering.
  const stored = JSON.parse(readFileSync(join(dir, '.genkit', 'traces', traceId), 'utf8'));
  const spans = Object.values(stored.spans);
  const root = spans.find((s) => s.attributes['genkit:isRoot'] === true);
  assert.equal(root.displayName, 'ragQuery');
  assert.equal(root.attributes['genkit:state'], 'success');
  assert.ok(spans.some((s) => s.displayName === 'searchDocs' && s.parentSpanId === root.spanId));
});

test('genkit flow:run --stream prints the chunks of ragQueryStream, then its result', async () => {
  const output = await genkit(dir, ['flow:run', 'ragQueryStream', QUESTION, '--stream']);
  const { result, before: chunks } = parseRun(output);
  assert.ok(result.citations.includes('tools'), output);
  const printed = chunks
    .split('\n')
    .filter((line) => line.startsWith('"'))
    .map((line) => JSON.parse(line));
  assert.ok(printed.length > 0, `no chunk printed before the result:\n${output}`);
  // The chunks are the answer's text as it arrived: together, the result's answer.
  assert.equal(printed.join(''), result.answer, output);
});

test('cancelAction ends a run waiting on its model', async (t) => {
  // A model endpoint that never answers: the run waits in its model call until cancelled.
  const hung = [];
  const model = createServer((req) => hung.push(req));
  model.listen(0, '127.0.0.1');
  await once(model, 'listening');
  const cancelDir = project('cancel');
  const slow = await startRuntime(cancelDir, {
    GENFLOW_MODEL: 'openai/gpt-4o-mini',
    OPENAI_API_KEY: 'test',
    OPENAI_BASE_URL: `http://127.0.0.1:${model.address().port}`,
  });
  t.after(async () => {
    await stopRuntime(slow);
    model.closeAllConnections();
    model.close();
    rmSync(cancelDir, { recursive: true, force: true });
  });
  const url = slow.info.reflectionServerUrl;
  const response = await fetch(`${url}/api/runAction`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key: '/flow/ragQuery', input: JSON.parse(QUESTION) }),
  });
  // The trace headers arrive while the run is still going.
  const traceId = response.headers.get('x-genkit-trace-id');
  assert.match(traceId, /^[0-9a-f]{32}$/);
  for (let i = 0; i < 100 && hung.length === 0; i++) await sleep(50);
  assert.equal(hung.length, 1, 'the run reached its model call');
  const closed = once(hung[0].socket, 'close');

  const cancel = () =>
    fetch(`${url}/api/cancelAction`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ traceId }),
    });
  const cancelled = await cancel();
  assert.equal(cancelled.status, 200);
  assert.deepEqual(await cancelled.json(), { message: 'Action cancelled' });
  const body = await response.json();
  assert.equal(body.error.code, 1, JSON.stringify(body));
  assert.equal(body.error.details.traceId, traceId);
  await closed; // the model call was dropped with the run
  assert.equal((await cancel()).status, 404, 'nothing left to cancel');
});
