/**
 * What some tests need from outside the workspace, with a message that says what is
 * missing and how to get it instead of a bare ENOENT or a network timeout.
 */
import { spawnSync } from 'node:child_process';

/** Thrown when a test's tool or download is not there: the message says how to get it. */
export class TestPrerequisiteError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TestPrerequisiteError';
  }
}

/**
 * Runs cfn-lint on templates and returns its error lines (`:E1234:`), its warnings left out.
 * @throws TestPrerequisiteError when cfn-lint is not installed (`bash scripts/dev.sh setup` installs it)
 */
export function cfnLintErrors(templates: readonly string[]): string[] {
  const lint = spawnSync('cfn-lint', ['--format', 'parseable', '--', ...templates], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (lint.error && (lint.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new TestPrerequisiteError(
      'cfn-lint is not installed, and this test lints the synthesized templates with it: run bash scripts/dev.sh setup (it installs cfn-lint with pipx), or pipx install cfn-lint',
      { cause: lint.error },
    );
  }
  if (lint.error) throw lint.error;
  // cfn-lint exits 0 when clean, and with the bits 2 (errors), 4 (warnings) and 8 (informational) set otherwise.
  const errors = lint.stdout.split('\n').filter((l) => /:E\d+:/.test(l));
  if (lint.status === null || (lint.status & ~(2 | 4 | 8)) !== 0) {
    throw new Error(`cfn-lint failed (exit ${lint.status ?? lint.signal}): ${lint.stderr.trim() || lint.stdout.trim()}`);
  }
  return errors;
}

/**
 * Runs a download a test needs on its first run (it keeps the result afterwards), and
 * says so when it fails: which source could not be reached, and what it was for.
 * @param what what the download makes, e.g. `a Debian root for the SBOM test`
 * @param source where it comes from, e.g. `Debian's mirror (http://deb.debian.org/debian)`
 */
export async function firstRunDownload<T>(what: string, source: string, download: () => Promise<T>): Promise<T> {
  try {
    return await download();
  } catch (cause) {
    throw new TestPrerequisiteError(
      `${what} is downloaded from ${source} on the first run and kept afterwards, and that failed: ${(cause as Error).message.split('\n')[0]}. ` +
        'Run the tests once on a machine that reaches it (or copy the kept result there)',
      { cause },
    );
  }
}
