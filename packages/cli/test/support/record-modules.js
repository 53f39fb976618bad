// Preloaded with `node --require` by test/startup.test.ts: records every module the
// process loaded (each `require`d request, and every file in the CommonJS cache, which
// also holds CommonJS files that an `import` loaded) into the file named by
// DCF_RECORD_MODULES when the process exits, one per line.
'use strict';
const Module = require('node:module');
const { writeFileSync } = require('node:fs');

const out = process.env.DCF_RECORD_MODULES;
if (out) {
  const requests = new Set();
  const load = Module._load;
  Module._load = function (request, ...rest) {
    requests.add(request);
    return load.call(this, request, ...rest);
  };
  process.on('exit', () => {
    writeFileSync(out, [...requests, ...Object.keys(require.cache)].join('\n') + '\n');
  });
}
