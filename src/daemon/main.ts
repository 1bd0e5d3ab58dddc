#!/usr/bin/env node
// msnld's entry point. Before any of the daemon's modules load it asks V8 to compile functions
// eagerly: otherwise the first call to a new peer runs through code that has never been compiled
// and takes several milliseconds per hop (12 ms for a first ping here, 3.5 ms eager), while the
// cost is paid once at start. It also gives each function its feedback (the inline caches) from
// its first run, not after some hundred runs: closures made by one function literal share it, so
// what the warm-up's throwaway daemons learn is what msnld's own Daemon finds on its first call,
// instead of generic look-ups and cache misses there (bench/README.md "First reply, issue 20").
// Then it loads the daemon proper.

import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--no-lazy');
setFlagsFromString('--no-lazy-feedback-allocation');
require('./msnld.js');
