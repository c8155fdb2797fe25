// Helpers shared by the node interop suites (genkit-js, genkit-cli, devui).

import { once } from 'node:events';
import { createServer } from 'node:net';

/** A port nothing listens on, on 127.0.0.1. */
export async function freePort() {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address();
  probe.close();
  await once(probe, 'close');
  return port;
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
