/**
 * The broker's seams (src/mqtt/seams.ts) against their contracts: the single-node parts, and the
 * same parts answering by promise (promised-seams.ts), as a cluster's would. The broker-level
 * behaviour with promised answers is in async-seams.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { LocalClientRegistry } from '../../src/mqtt/client-registry.js';
import { RetainedIndex } from '../../src/mqtt/retained.js';
import { LocalRouter } from '../../src/mqtt/router.js';
import { LocalWillScheduler } from '../../src/mqtt/wills.js';
import { openStore } from '../../src/store/index.js';
import type { RetainedRepo } from '../../src/store/types.js';
import { ManualClock } from '../../src/time/manual.js';
import { clientRegistryContract } from './client-registry.contract.js';
import { PromisedRegistry, PromisedRetained, PromisedWills } from './promised-seams.js';
import { retainedContract } from './retained.contract.js';
import { routerContract } from './router.contract.js';
import { willsContract } from './wills.contract.js';

const HOST = 'example.org';
const settle = async () => {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
};

clientRegistryContract('local', (host, rate) => new LocalClientRegistry(host, rate));
clientRegistryContract('answering by promise', (host, rate) => new PromisedRegistry(new LocalClientRegistry(host, rate)));

routerContract('local', (deps) => ({ router: new LocalRouter(deps), settle: async () => {} }));

const index = (repo: RetainedRepo) => {
  const r = new RetainedIndex(HOST, repo, new ManualClock());
  r.load();
  return r;
};
retainedContract('local, memory store', () => {
  const repo = openStore('memory', '').retained;
  return { store: index(repo), reopen: () => index(repo) };
});
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
retainedContract('local, SQLite store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-retained-'));
  dirs.push(dir);
  const store = openStore('sqlite', join(dir, 'data'));
  return { store: index(store.retained), reopen: () => index(store.retained) };
});
retainedContract('answering by promise', () => {
  const repo = openStore('memory', '').retained;
  return { store: new PromisedRetained(index(repo)), reopen: () => new PromisedRetained(index(repo)) };
});

willsContract('local', (deps) => ({ wills: new LocalWillScheduler(deps), settle: async () => {} }));
willsContract('answering by promise', (deps) => ({ wills: new PromisedWills(new LocalWillScheduler(deps)), settle }));
