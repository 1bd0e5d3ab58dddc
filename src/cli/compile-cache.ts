// Imported first by main.ts: when msnl runs as a command, Node.js (22.8 and later) keeps the
// compiled code of the modules it loads on disk (module.enableCompileCache: NODE_COMPILE_CACHE or
// a directory under os.tmpdir()), so the next msnl skips compiling commander and the CLI again.
// Node.js 20 has no such call and nothing happens; the call never throws, and a cache it cannot
// use only costs the compile it would have done anyway. Tests that import main.ts are left alone.
import Module from 'node:module';
import path from 'node:path';

type EnableCompileCache = (cacheDir?: string) => unknown;

if (require.main !== undefined && require.main.filename === path.join(__dirname, 'main.js')) {
  const enable = (Module as unknown as { enableCompileCache?: EnableCompileCache }).enableCompileCache;
  if (typeof enable === 'function') enable();
}
