// The modules only some msnl commands need, loaded on first use rather than when msnl starts:
// SQLite (better-sqlite3, a native addon), the control client (node:net), etcd's client
// (node:http, node:https), the key primitives (node:crypto). A start-up that loads them all costs
// `msnl --version` as much again as Node.js itself (bench/cli-startup.ts).
//
// require(), not `await import()`: the CLI is compiled to CommonJS, where a dynamic import()
// starts Node's ESM loader (10-20 ms on Node 20) and would make every caller async. The types
// come from the real modules, so the compiler checks every use as with a static import.
import type * as ClientModule from '../control/client.js';
import type * as StoreModule from '../store/store.js';
import type * as EtcdModule from '../fleet/etcd.js';
import type * as PrimitivesModule from '../crypto/primitives.js';
import type * as SettleModule from './settle.js';

export function clientModule(): typeof ClientModule {
  return require('../control/client.js') as typeof ClientModule;
}

export function storeModule(): typeof StoreModule {
  return require('../store/store.js') as typeof StoreModule;
}

export function etcdModule(): typeof EtcdModule {
  return require('../fleet/etcd.js') as typeof EtcdModule;
}

export function primitivesModule(): typeof PrimitivesModule {
  return require('../crypto/primitives.js') as typeof PrimitivesModule;
}

export function settleModule(): typeof SettleModule {
  return require('./settle.js') as typeof SettleModule;
}
