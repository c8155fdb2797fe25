// The developer UI's entry point: hash routes (#/action/<key>, #/traces, #/trace/<id>), the
// action sidebar, and the reconnect loop that survives a rebuild and restart of the binary.

import * as api from './api.js';
import { renderList } from './actions.js';
import { h, mount } from './dom.js';
import { runPanel } from './run.js';
import { traceList, traceView } from './traces.js';

const HEALTH_EVERY_MS = 1500;

const state = {
  actions: {},
  config: {},
  panels: new Map(),
  filter: '',
  connected: true,
};

const main = document.getElementById('main');
const list = document.getElementById('actions');
const banner = document.getElementById('banner');
const filter = document.getElementById('filter');

function route() {
  const hash = decodeURIComponent(location.hash.slice(1) || '/');
  if (hash.startsWith('/action/')) return { view: 'action', key: hash.slice('/action'.length) };
  if (hash.startsWith('/trace/')) return { view: 'trace', id: hash.slice('/trace/'.length) };
  if (hash.startsWith('/traces')) return { view: 'traces' };
  return { view: 'home' };
}

function selectedKey() {
  const r = route();
  return r.view === 'action' ? r.key : undefined;
}

function renderSidebar() {
  renderList(list, state.actions, selectedKey(), state.filter);
  for (const link of document.querySelectorAll('nav.top a')) {
    const view = route().view === 'trace' ? 'traces' : route().view === 'home' ? 'action' : route().view;
    link.classList.toggle('current', link.dataset.view === view);
  }
}

/** A cached panel per action, rebuilt when its descriptor changed (after a rebuild). */
function panelFor(action) {
  const signature = JSON.stringify(action);
  const cached = state.panels.get(action.key);
  if (cached && cached.signature === signature) return cached.el;
  const el = runPanel(action, { flowServer: state.config.flowServer });
  state.panels.set(action.key, { signature, el });
  return el;
}

/** Retries while a just-finished run's trace has not reached the store yet. */
async function withRetry(load, tries = 10) {
  for (let i = 1; ; i++) {
    try {
      return await load();
    } catch (error) {
      if (i >= tries) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

let rendering = 0;
async function render() {
  const ticket = ++rendering;
  renderSidebar();
  const r = route();
  const show = (...children) => ticket === rendering && mount(main, ...children);
  try {
    if (r.view === 'action') {
      const action = state.actions[r.key];
      show(action ? panelFor(action) : h('p.muted.pad', {}, `No action ${r.key} in this runtime.`));
    } else if (r.view === 'traces') {
      show(h('p.muted.pad', {}, 'Loading traces…'));
      show(await traceList());
    } else if (r.view === 'trace') {
      show(h('p.muted.pad', {}, 'Loading trace…'));
      show(await withRetry(() => traceView(r.id)));
    } else {
      show(home());
    }
  } catch (error) {
    show(h('div.error.pad', { role: 'alert' }, h('p.message', {}, error.message)));
  }
}

function home() {
  const count = Object.keys(state.actions).length;
  return h(
    'div.home.pad',
    {},
    h('h2', {}, 'genflow developer UI'),
    h('p', {}, `${count} action${count === 1 ? '' : 's'} registered. Pick one on the left to run it, or open the `, h('a', { href: '#/traces' }, 'traces'), '.'),
    h('p.muted', {}, 'Everything here is served by the binary itself; nothing is loaded from the network.'),
  );
}

async function loadActions() {
  const [actions, config] = await Promise.all([api.actions(), api.config()]);
  state.actions = actions || {};
  state.config = config || {};
}

function showBanner(kind, text) {
  banner.className = `banner ${kind}`;
  banner.textContent = text;
  banner.hidden = !text;
}

let hideBanner;
async function watchHealth() {
  const up = await api.healthy();
  if (!up && state.connected) {
    state.connected = false;
    clearTimeout(hideBanner);
    showBanner('down', 'The runtime is not answering: waiting for it to come back…');
  } else if (up && !state.connected) {
    try {
      await loadActions();
      state.connected = true;
      showBanner('up', 'Reconnected: actions reloaded.');
      hideBanner = setTimeout(() => showBanner('', ''), 3000);
      if (route().view !== 'trace') await render();
      else renderSidebar();
    } catch {
      // still starting: try again on the next tick
    }
  }
  setTimeout(watchHealth, HEALTH_EVERY_MS);
}

filter.addEventListener('input', () => {
  state.filter = filter.value;
  renderSidebar();
});
window.addEventListener('hashchange', render);

try {
  await loadActions();
} catch {
  state.connected = false;
  showBanner('down', 'The runtime is not answering: waiting for it to come back…');
}
await render();
watchHealth();
