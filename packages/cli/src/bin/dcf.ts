#!/usr/bin/env node
// The `dcf` executable: the only place that sets the process's exit code.
import { exec } from '../cli';
import { runInterruptCleanups } from '../private/interrupt-cleanup';

// The SDK warns on every run under Node 20 that its 2027 releases will need Node 22; dcf supports Node 20, so users need not see it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// A reader that goes away (`dcf --help | head -1`) is not an error: stop quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

// SIGINT (Ctrl-C: the whole process group gets it) or SIGTERM (a supervisor: this pid only): stop what dcf
// started (a local registry, temp folders), then exit 128 + the signal number. A second signal exits at once.
const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
let interrupted = false;
for (const [signal, code] of Object.entries(SIGNAL_EXIT_CODES)) {
  process.on(signal, () => {
    if (interrupted) process.exit(code);
    interrupted = true;
    process.stderr.write(`dcf: ${signal}: stopping what dcf started\n`);
    const deadline = new Promise((resolve) => setTimeout(resolve, 15_000).unref());
    void Promise.race([runInterruptCleanups(), deadline]).finally(() => process.exit(code));
  });
}

exec(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`dcf: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 70;
  },
);
