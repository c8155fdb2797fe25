// Genkit's own JS client (genkit/beta/client) against the genflow example service
// (examples/flow-server): the proof of wire compatibility.
//
// FLOW_SERVER_BIN names the built binary (run.sh sets it).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { runFlow, streamFlow } from 'genkit/beta/client';
import { freePort } from '../lib.mjs';

const KEY = 'interop-secret';
let server;
let base;

before(async () => {
  const bin = process.env.FLOW_SERVER_BIN;
  assert.ok(bin, 'FLOW_SERVER_BIN must name the flow-server binary');
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(bin, [], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', API_KEY: KEY },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  // Wait for liveness: at most 100 tries, 100 ms apart.
  for (let i = 0; i < 100; i++) {
    if (server.exitCode !== null) throw new Error(`flow-server exited with ${server.exitCode}`);
    try {
      if ((await fetch(`${base}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('flow-server did not become healthy');
});

after(async () => {
  if (!server || server.exitCode !== null) return;
  const exited = once(server, 'exit');
  server.kill('SIGTERM');
  const [code, signal] = await exited;
  // A graceful shutdown on SIGTERM exits 0 rather than dying of the signal.
  assert.equal(signal, null);
  assert.equal(code, 0);
});

async function collect(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

test('runFlow returns the result', async () => {
  const out = await runFlow({ url: `${base}/greet`, input: { name: 'Ada' } });
  assert.equal(out, 'Hello, Ada!');
});

test('runFlow surfaces 400 with the invalid path', async () => {
  await assert.rejects(runFlow({ url: `${base}/greet`, input: { name: 7 } }), (err) => {
    assert.match(err.message, /Server returned: 400/);
    assert.match(err.message, /INVALID_ARGUMENT/);
    assert.match(err.message, /\/name/);
    return true;
  });
});

test('runFlow sees redacted internal errors', async () => {
  await assert.rejects(runFlow({ url: `${base}/fail`, input: null }), (err) => {
    assert.match(err.message, /Server returned: 500/);
    assert.match(err.message, /"message":"internal"/);
    assert.doesNotMatch(err.message, /hunter2/);
    return true;
  });
});

test('streamFlow yields chunks then the output', async () => {
  const { stream, output } = streamFlow({ url: `${base}/countdown`, input: 3 });
  assert.deepEqual(await collect(stream), [3, 2, 1]);
  assert.equal(await output, 'liftoff');
});

test('streamFlow of a plain flow yields only the output', async () => {
  const { stream, output } = streamFlow({ url: `${base}/greet`, input: { name: 'Bo' } });
  assert.deepEqual(await collect(stream), []);
  assert.equal(await output, 'Hello, Bo!');
});

test('streamFlow throws on the error frame', async () => {
  const { stream, output } = streamFlow({ url: `${base}/failStream`, input: 'x' });
  const chunks = [];
  await assert.rejects(
    (async () => {
      for await (const chunk of stream) chunks.push(chunk);
    })(),
    /FAILED_PRECONDITION: this flow always fails/,
  );
  assert.deepEqual(chunks, ['about to fail on x']);
  await assert.rejects(output, /FAILED_PRECONDITION: this flow always fails/);
});

test('the auth header reaches the context provider', async () => {
  const url = `${base}/whoami`;
  await assert.rejects(runFlow({ url, input: null }), /Server returned: 401/);
  await assert.rejects(
    runFlow({ url, input: null, headers: { Authorization: 'Bearer wrong' } }),
    /Server returned: 403/,
  );
  const headers = { Authorization: `Bearer ${KEY}` };
  assert.equal(await runFlow({ url, input: null, headers }), 'a key holder');
  const { stream, output } = streamFlow({ url, input: null, headers });
  assert.deepEqual(await collect(stream), []);
  assert.equal(await output, 'a key holder');
});
