// Imported first by main.ts: when msnl runs as a command, Node.js (22.8 and later) keeps the
// compiled code of the modules it loads on disk (module.enableCompileCache), so the next msnl
// skips compiling commander and the CLI again. Node.js 20 has no such call and nothing happens;
// the call never throws, and a cache it cannot use only costs the compile it would have done.
// Tests that import main.ts are left alone.
//
// The cache lives in the user's own cache directory ($XDG_CACHE_HOME or ~/.cache, then
// msnl/node-compile-cache), not Node's default under os.tmpdir(): msnl mostly runs as root, and
// code cache read from a directory another user could have made first would be code that user
// chose. NODE_COMPILE_CACHE, when set, is the operator's choice and wins.
import Module from 'node:module';
import os from 'node:os';
import path from 'node:path';

type EnableCompileCache = (cacheDir?: string) => unknown;

if (require.main !== undefined && require.main.filename === path.join(__dirname, 'main.js')) {
  const enable = (Module as unknown as { enableCompileCache?: EnableCompileCache }).enableCompileCache;
  if (typeof enable === 'function') {
    const env = process.env;
    if (env.NODE_COMPILE_CACHE !== undefined && env.NODE_COMPILE_CACHE !== '') enable();
    else enable(path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'msnl', 'node-compile-cache'));
  }
}
