/**
 * The errors `dcf` reports to its user, and the exit codes it returns. A user
 * error says what went wrong and what to do; it is printed without a stack
 * trace unless `--verbose` is given.
 */

/** Exit codes of `dcf`, documented in the README. */
export const ExitCode = {
  /** Done. */
  Ok: 0,
  /** The configuration has problems (validation failed, unsafe content). Nothing was uploaded. */
  ValidationFailed: 1,
  /** The command line is wrong: unknown command or option, missing argument, bad id or value. */
  Usage: 2,
  /** AWS or the environment failed: no credentials or region, no factory for the namespace, access denied, a missing bucket or pipeline, network errors. */
  Aws: 3,
  /** `push --wait`: the pipeline execution failed, stopped or was superseded. */
  PipelineFailed: 4,
  /** `push --wait`: the pipeline had not finished within `--timeout`. */
  Timeout: 5,
  /** A bug in dcf: an unexpected error (run with --verbose and report the stack trace). */
  Internal: 70,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error meant for the user of `dcf`: a message that says what to do, and the exit code it ends with. */
export class DcfError extends Error {
  readonly exitCode: ExitCodeValue;
  constructor(message: string, exitCode: ExitCodeValue, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DcfError';
    this.exitCode = exitCode;
  }
}
