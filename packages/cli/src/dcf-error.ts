/**
 * The errors `dcf` reports to its user, and the exit codes it returns. A user
 * error says what went wrong and what to do; it is printed without a stack
 * trace unless `--verbose` is given. {@link classifyError} is the one place that
 * turns an error of any family into its message and exit code.
 */
import {
  CatalogError,
  FactoryError,
  InvalidConfigurationError,
  InvalidNameError,
  UnsupportedPlatformError,
  type ConfigProblem,
} from '@devcontainer-factory/core';
import { EngineCommandError } from './local/container-engine';
import { LocalRegistryError } from './local/local-registry';
import { RetentionFlagError } from './local/local-retention';

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
export class DcfError extends FactoryError {
  readonly exitCode: ExitCodeValue;
  constructor(message: string, exitCode: ExitCodeValue, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
  }
}

/** What `dcf` tells its user about an error. */
export interface ClassifiedError {
  /** The line printed after `error:` (and `error.message` with `--json`). */
  readonly message: string;
  readonly exitCode: ExitCodeValue;
  /** The problems of a configuration, one line each after the message. */
  readonly problems?: readonly ConfigProblem[];
}

/** The message and exit code of an error of a family `dcf` knows; undefined for any other. */
function classifyOne(e: unknown): ClassifiedError | undefined {
  if (e instanceof DcfError) return { message: e.message, exitCode: e.exitCode };
  if (e instanceof InvalidConfigurationError) return { message: e.message.split('\n')[0], exitCode: ExitCode.ValidationFailed, problems: e.problems };
  if (e instanceof InvalidNameError || e instanceof CatalogError || e instanceof RetentionFlagError) return { message: e.message, exitCode: ExitCode.Usage };
  if (e instanceof EngineCommandError) return { message: `the image tools failed: ${e.message}`, exitCode: ExitCode.Aws };
  if (e instanceof LocalRegistryError || e instanceof UnsupportedPlatformError) return { message: e.message, exitCode: ExitCode.Aws };
  return undefined;
}

/** How deep {@link classifyError} follows `cause`. */
const MAX_CAUSE_DEPTH = 10;

/**
 * The message and exit code `dcf` ends with for an error: a user error of `dcf`
 * (a {@link DcfError}) keeps its own; a configuration with problems is 1; a bad
 * name, catalogue or flag is 2; the image tools, the local registry or an
 * unsupported host is 3. An error of no known family is classified by the first
 * error of its `cause` chain that is; failing that, it is an internal error (70).
 */
export function classifyError(e: unknown): ClassifiedError {
  let current: unknown = e;
  for (let depth = 0; current !== undefined && current !== null && depth < MAX_CAUSE_DEPTH; depth++) {
    const known = classifyOne(current);
    if (known) return known;
    current = (current as { cause?: unknown }).cause;
  }
  return { message: `internal error, please report it: ${(e as Error)?.message ?? String(e)}`, exitCode: ExitCode.Internal };
}

/** The stack of an error and of each error in its `cause` chain, for `--verbose`. */
export function errorDetails(e: unknown): string {
  const lines = [stackOf(e)];
  let current = (e as { cause?: unknown } | undefined)?.cause;
  for (let depth = 0; current !== undefined && current !== null && depth < MAX_CAUSE_DEPTH; depth++) {
    lines.push(`caused by: ${stackOf(current)}`);
    current = (current as { cause?: unknown }).cause;
  }
  return lines.join('\n');
}

function stackOf(e: unknown): string {
  return (e as Error)?.stack ?? String(e);
}
