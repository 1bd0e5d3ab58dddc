#!/usr/bin/env node
// msnld's entry point. Before any of the daemon's modules load it asks V8 to compile functions
// eagerly: otherwise the first call to a new peer runs through code that has never been compiled
// and takes several milliseconds per hop (12 ms for a first ping here, 3.5 ms eager), while the
// cost is paid once at start. Then it loads the daemon proper.

import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--no-lazy');
require('./msnld.js');
