// genflow's built-in developer UI in a real Chromium (playwright-core), against the quickstart
// binary in dev mode: the action list, a streaming run from the generated form, its trace, an
// input error, the trace list, a diff of two runs, and reconnecting after a restart. The
// screenshots land in docs/devtools/ (docs/devtools.md shows them).
//
// QUICKSTART_BIN names the built binary and CHROMIUM the browser (run.sh sets both).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { freePort, sleep } from '../lib.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const shots = process.env.DEVUI_SCREENSHOTS || join(root, 'docs/devtools');
const QUESTION = 'How do tools work?';

let server;
let workdir;
let ports;
let ui;
let browser;
let page;
const offsite = [];
const pageErrors = [];

/** Starts the quickstart in dev mode; resolves to the reflection URL from its runtime file. */
async function start() {
  const bin = process.env.QUICKSTART_BIN;
  assert.ok(bin, 'QUICKSTART_BIN must name the quickstart binary');
  const env = { ...process.env, GENKIT_ENV: 'dev', HOST: '127.0.0.1', PORT: String(ports.flow), GENKIT_REFLECTION_PORT: String(ports.dev) };
  for (const name of ['GENKIT_TELEMETRY_SERVER', 'GENKIT_ENABLE_REALTIME_TELEMETRY', 'GENFLOW_MODEL', 'GENKIT_RUNTIME_ID']) delete env[name];
  server = spawn(bin, [], { cwd: workdir, env, stdio: ['ignore', 'inherit', 'inherit'] });
  const runtimes = join(workdir, '.genkit', 'runtimes');
  // At most 100 tries, 100 ms apart: the runtime file, then a healthy reflection server.
  for (let i = 0; i < 100; i++) {
    if (server.exitCode !== null) throw new Error(`quickstart exited with ${server.exitCode}`);
    let files = [];
    try {
      files = readdirSync(runtimes).filter((f) => f.endsWith('.json'));
    } catch {
      // not written yet
    }
    if (files.length === 1) {
      const { reflectionServerUrl } = JSON.parse(readFileSync(join(runtimes, files[0]), 'utf8'));
      try {
        if ((await fetch(`${reflectionServerUrl}/api/__health`)).ok) return reflectionServerUrl;
      } catch {
        // not listening yet
      }
    }
    await sleep(100);
  }
  throw new Error('the quickstart did not serve its developer tools');
}

async function stop() {
  if (!server || server.exitCode !== null) return;
  const exited = once(server, 'exit');
  server.kill('SIGTERM');
  await exited;
}

/** Waits for `locator`; a timeout names what the page showed instead. */
async function visible(locator, timeout = 15_000) {
  try {
    await locator.first().waitFor({ timeout });
  } catch (error) {
    const shown = await page.locator('body').innerText().catch(() => '(unreadable)');
    throw new Error(`${error.message}\nthe page shows:\n${shown}`);
  }
}

const shot = (name) => page.screenshot({ path: join(shots, `${name}.png`) });

before(async () => {
  workdir = mkdtempSync(join(tmpdir(), 'genflow-devui-'));
  ports = { flow: await freePort(), dev: await freePort() };
  ui = await start();
  assert.match(ui, /^http:\/\/127\.0\.0\.1:\d+$/);
  mkdirSync(shots, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  page.on('request', (request) => {
    if (!request.url().startsWith(`${ui}/`) && !request.url().startsWith('data:')) offsite.push(request.url());
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
});

after(async () => {
  await browser?.close();
  await stop();
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

test('lists the actions by kind, and paints quickly', async () => {
  await page.goto(`${ui}/`);
  await visible(page.locator('a.action[data-key="/flow/ragQueryStream"]'));
  const paint = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime);
  console.log(`first contentful paint: ${paint?.toFixed(0)} ms`);
  assert.ok(paint < 1000, `first paint took ${paint} ms`);
  assert.equal(await page.locator('section.kind[data-kind=flow] a.action[data-key="/flow/ragQuery"]').count(), 1);
  assert.equal(await page.locator('section.kind[data-kind=tool] a.action[data-key="/tool/searchDocs"]').count(), 1);
  const description = await page.locator('a.action[data-key="/flow/ragQuery"] small').textContent();
  assert.match(description, /Answer a question/);
});

test('runs a streaming flow from the generated form, showing chunks live and the result', async () => {
  await page.click('a.action[data-key="/flow/ragQueryStream"]');
  const question = page.locator('.field[data-path="/question"]');
  assert.match(await question.locator('.help').textContent(), /The question to answer/);
  await question.locator('input').fill(QUESTION);
  const context = page.locator('.field[data-path="/context"]');
  await context.getByText('+ add item').click();
  await context.locator('.items input').fill('A tool is a plain async function.');
  // Records when the first chunk and when the result appear.
  await page.evaluate(() => {
    window.__seen = {};
    new MutationObserver(() => {
      if (!window.__seen.chunk && document.querySelector('li.chunk')) window.__seen.chunk = performance.now();
      if (!window.__seen.result && document.querySelector('.result-json')) window.__seen.result = performance.now();
    }).observe(document.getElementById('main'), { childList: true, subtree: true });
  });
  await page.click('button.primary');
  await visible(page.locator('.output .status.ok'));
  const chunks = await page.locator('li.chunk').count();
  assert.ok(chunks > 0, 'no chunk shown');
  const seen = await page.evaluate(() => window.__seen);
  assert.ok(seen.chunk <= seen.result, `chunks shown before the result: ${JSON.stringify(seen)}`);
  const result = JSON.parse(await page.locator('pre.result-json').textContent());
  assert.equal(typeof result.answer, 'string');
  assert.ok(Array.isArray(result.citations) && result.citations.length > 0);
  await shot('run-stream');
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: ui });
  await page.click('button:text-is("Copy as curl")');
  await visible(page.locator('.note:text-is("curl command copied")'));
  const curl = await page.evaluate(() => navigator.clipboard.readText());
  assert.ok(curl.includes(`'http://127.0.0.1:${ports.flow}/ragQueryStream'`), curl);
  assert.ok(curl.includes(`"data":{"question":"${QUESTION}"`), curl);
});

test('opens the trace of the run: flow, tool and model spans with input and output', async () => {
  await page.click('a.open-trace');
  await visible(page.locator('.span-row'));
  const title = await page.locator('.trace-view header h2').boundingBox();
  assert.ok(title.y < 150, `the trace title sits at the top (y = ${title.y})`);
  const kinds = await page.locator('.span-row').evaluateAll((rows) => rows.map((r) => r.dataset.kind));
  assert.equal(kinds[0], 'flow');
  assert.ok(kinds.includes('tool'), `kinds: ${kinds}`);
  assert.ok(kinds.includes('model'), `kinds: ${kinds}`);
  await page.locator('.span-row[data-kind=flow]').click();
  assert.match(await page.locator('.span-detail pre.span-input').textContent(), /How do tools work/);
  assert.match(await page.locator('.span-detail pre.span-output').textContent(), /"answer"/);
  const tool = page.locator('.span-row[data-kind=tool]').first();
  assert.match(await tool.textContent(), /searchDocs/);
  await tool.click();
  assert.match(await page.locator('.span-detail pre.span-output').textContent(), /"id": "tools"/);
  await page.locator('.span-row[data-kind=model]').first().click();
  assert.match(await page.locator('.span-detail .tokens').textContent(), /^\d+ in · \d+ out$/);
  const bar = await page.locator('.span-row[data-kind=model] .span-bar').evaluate((b) => b.style.width);
  assert.match(bar, /%$/);
  await shot('trace');
});

test('an invalid input shows the status, the message and the violation path', async () => {
  await page.goto(`${ui}/#/action/flow/ragQueryStream`);
  await page.locator('.field[data-path="/question"] input').fill('');
  await page.click('button.primary');
  await visible(page.locator('.output .error'));
  assert.equal(await page.locator('.output .error .status').first().textContent(), 'INVALID_ARGUMENT');
  const paths = await page.locator('.violations code.path').allTextContents();
  assert.ok(paths.includes('/question'), `paths: ${paths}`);
  await shot('error');
});

test('earlier inputs fill the form, the raw JSON toggle keeps the value, re-run repeats it', async () => {
  const earlier = page.locator('select.earlier');
  const values = await earlier.locator('option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
  assert.ok(values.length >= 2, 'two earlier inputs');
  await earlier.selectOption(values[1]);
  assert.equal(await page.locator('.field[data-path="/question"] input').inputValue(), QUESTION);
  await page.click('button:text-is("JSON")');
  const raw = JSON.parse(await page.locator('textarea.raw').inputValue());
  assert.equal(raw.question, QUESTION);
  assert.deepEqual(raw.context, ['A tool is a plain async function.']);
  await page.click('button:text-is("Form")');
  const before = await page.locator('table.run-list tr').count();
  await page.locator('table.run-list tr').last().getByText('Re-run').click();
  await visible(page.locator('.output .status.ok'));
  assert.equal(await page.locator('table.run-list tr').count(), before + 1);
});

test('compares the outputs of two runs side by side', async () => {
  await page.locator('.field[data-path="/question"] input').fill('What does the registry collect?');
  await page.locator('.field[data-path="/context"] button[title=remove]').click();
  await page.click('button.primary');
  await visible(page.locator('.output .status.ok'));
  const rows = page.locator('table.run-list tr');
  await rows.first().locator('input[type=checkbox]').check();
  await rows.last().locator('input[type=checkbox]').check();
  await page.click('button:text-is("Compare outputs")');
  await visible(page.locator('table.diff-table'));
  assert.ok((await page.locator('table.diff-table td.chg, table.diff-table td.add, table.diff-table td.del').count()) > 0);
  await page.locator('section.diff').scrollIntoViewIfNeeded();
  await shot('diff');
});

test('lists the traces newest first', async () => {
  await page.click('nav.top a[data-view=traces]');
  await visible(page.locator('table.traces tbody tr'));
  const starts = await page.locator('table.traces tbody tr').evaluateAll((rows) => rows.map((r) => Number(r.dataset.start)));
  assert.ok(starts.length >= 3, `traces: ${starts.length}`);
  assert.deepEqual(starts, [...starts].sort((a, b) => b - a));
  assert.equal(await page.locator('table.traces tbody tr').first().locator('.status').textContent(), 'success');
  await shot('traces');
});

test('runs a tool (no stream) from its form', async () => {
  await page.click('a.action[data-key="/tool/searchDocs"]');
  await page.locator('.field[data-path="/query"] input').fill('registry');
  await page.locator('.field[data-path="/limit"] input').fill('1');
  await page.click('button.primary');
  await visible(page.locator('.output .status.ok'));
  assert.equal(await page.locator('.output .stream').count(), 0);
  const result = JSON.parse(await page.locator('pre.result-json').textContent());
  assert.deepEqual(result.map((p) => p.id), ['registry']);
});

// The form generator on a schema richer than the quickstart's: the page's own module, in the page.
const RICH = {
  type: 'object',
  required: ['name', 'kind', 'address', 'tags'],
  properties: {
    name: { type: 'string', description: 'Who is asking' },
    kind: { $ref: '#/$defs/Kind' },
    age: { type: ['integer', 'null'], minimum: 0 },
    address: { $ref: '#/$defs/Address' },
    tags: { type: 'array', items: { type: 'string' } },
    friends: { type: 'array', items: { $ref: '#/$defs/Address' } },
    contact: {
      oneOf: [
        { title: 'Email', type: 'object', properties: { email: { type: 'string' } }, required: ['email'] },
        { title: 'Phone', type: 'object', properties: { phone: { type: 'string' } }, required: ['phone'] },
      ],
    },
    verbose: { type: 'boolean' },
    extra: {},
  },
  $defs: {
    Kind: { oneOf: [{ const: 'a', description: 'the first' }, { const: 'b', description: 'the second' }] },
    Address: {
      type: 'object',
      properties: { city: { type: 'string' }, zip: { anyOf: [{ $ref: '#/$defs/Zip' }, { type: 'null' }] } },
      required: ['city'],
    },
    Zip: { type: 'string', pattern: '^\\d+$' },
  },
};

test('the generated form covers nested objects, arrays, enums, variants, nullable fields and $ref', async () => {
  const value = {
    name: 'Ada',
    kind: 'b',
    age: 36,
    address: { city: 'London', zip: '12345' },
    tags: ['math', 'engines'],
    friends: [{ city: 'Turin' }],
    contact: { phone: '555' },
    verbose: true,
    extra: { any: [1, 'json'] },
  };
  await page.click('nav.top a[data-view=action]');
  const out = await page.evaluate(async ({ schema, value }) => {
    const { form } = await import('/ui/form.js');
    const fresh = form(schema);
    const filled = form(schema);
    filled.set(value);
    const main = document.getElementById('main');
    main.replaceChildren(filled.el);
    return {
      fresh: fresh.get(),
      filled: filled.get(),
      help: filled.el.querySelector('[data-path="/name"] .help')?.textContent,
      kinds: [...filled.el.querySelectorAll('[data-path="/kind"] option')].map((o) => o.textContent),
    };
  }, { schema: RICH, value });
  assert.deepEqual(out.fresh, { name: '', kind: 'a', address: { city: '' }, tags: [] });
  assert.deepEqual(out.filled, value);
  assert.equal(out.help, 'Who is asking');
  assert.deepEqual(out.kinds, ['"a" — the first', '"b" — the second']);
  await shot('form');
});

test('reconnects by itself after the binary restarts', async () => {
  await stop();
  await visible(page.locator('.banner.down'), 10_000);
  ui = await start();
  await visible(page.locator('.banner.up'), 15_000);
  await visible(page.locator('a.action[data-key="/flow/ragQueryStream"]'));
});

test('nothing was loaded from the network and the page threw nothing', () => {
  assert.deepEqual(offsite, []);
  assert.deepEqual(pageErrors, []);
});
