#!/usr/bin/env node
// The `dcf` executable: the only place that sets the process's exit code.
import { exec } from '../cli';

// The SDK warns on every run under Node 20 that its 2027 releases will need Node 22; dcf supports Node 20, so users need not see it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

exec(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`dcf: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 70;
  },
);
