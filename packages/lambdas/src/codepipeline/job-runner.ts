/**
 * The one way a handler ends a CodePipeline job: success with output variables,
 * or failure with a message that says what to fix. Reporting is retried on
 * throttling, so a busy account does not leave an action hanging until timeout.
 */
import { format } from 'node:util';
import { type CodePipelineClient, PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { withRetry, type RetryOptions, jobOf, type CodePipelineJob } from '@devcontainer-factory/core';

/** Where a handler writes what happened: `console`, {@link jsonLog}, or a fake in tests. */
export type JobLog = Pick<Console, 'log' | 'error'>;

/** Fields that every line of a {@link jsonLog} carries. */
export type LogContext = Readonly<Record<string, string | number | boolean | undefined>>;

/** Where {@link jsonLog} writes, and its clock. */
export interface JsonLogOptions {
  /** @default process.stdout */
  readonly stdout?: { write(line: string): unknown };
  /** @default process.stderr */
  readonly stderr?: { write(line: string): unknown };
  /** @default - the current time */
  readonly now?: () => Date;
}

const isFields = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Error);

/**
 * A log that writes one JSON object per line, as Powertools Logger does: `level`
 * (`INFO` on stdout for `log`, `ERROR` on stderr for `error`), `message`, `timestamp`,
 * the Lambda's `function_name`, then `context` (the job's `jobId`, …). A last argument
 * that is a plain object adds its fields to the line instead of to the message; an
 * `Error` adds `error: { name, message, stack }`. It writes to the streams directly,
 * not through `console`, so that Lambda's JSON log format does not wrap it again.
 */
export function jsonLog(context: LogContext = {}, options: JsonLogOptions = {}): JobLog {
  const now = options.now ?? (() => new Date());
  const write = (level: 'INFO' | 'ERROR', args: unknown[]) => {
    const fields = args.length > 1 && isFields(args[args.length - 1]) ? (args.pop() as Record<string, unknown>) : {};
    const error = args.find((a): a is Error => a instanceof Error);
    const line = {
      level,
      message: format(...args),
      timestamp: now().toISOString(),
      function_name: process.env.AWS_LAMBDA_FUNCTION_NAME,
      ...context,
      ...fields,
      ...(error ? { error: { name: error.name, message: error.message, stack: error.stack } } : {}),
    };
    const stream = level === 'ERROR' ? (options.stderr ?? process.stderr) : (options.stdout ?? process.stdout);
    stream.write(`${JSON.stringify(line)}\n`);
  };
  return { log: (...args: unknown[]) => write('INFO', args), error: (...args: unknown[]) => write('ERROR', args) };
}

/** Longest failure message CodePipeline accepts. */
export const MAX_FAILURE_MESSAGE_LENGTH = 5000;
/** Longest execution summary CodePipeline accepts. */
export const MAX_SUMMARY_LENGTH = 2048;

/** What a job's work returns when it succeeds. */
export interface JobResult {
  /** Output variables for later actions (`#{Namespace.Name}`); every value a string. */
  readonly outputVariables: Readonly<Record<string, string>>;
  /** One line for the console's action details. */
  readonly summary: string;
}

export interface RunJobOptions {
  /** The client that reports the job's result. */
  readonly codepipeline: CodePipelineClient;
  /**
   * How to retry throttled `PutJob*Result` calls.
   * @default - {@link withRetry} defaults
   */
  readonly retry?: RetryOptions;
  /**
   * Where to write what happened (the Lambda log).
   * @default - {@link jsonLog} with the job's `jobId` and `accountId` on every line
   */
  readonly log?: JobLog;
}

/** What {@link runJob} reported. */
export type JobOutcome =
  | { readonly status: 'succeeded'; readonly jobId: string; readonly result: JobResult }
  | { readonly status: 'failed'; readonly jobId: string; readonly message: string; readonly error: unknown };

/** An error's message followed by the messages of its causes, so the console shows the whole story. */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    const message = current instanceof Error ? current.message : String(current);
    if (message && !parts.some((p) => p.includes(message))) parts.push(message);
    current = current instanceof Error ? (current as Error & { cause?: unknown }).cause : undefined;
  }
  return parts.join(' (caused by: ') + ')'.repeat(Math.max(0, parts.length - 1));
}

/** Cuts a text to a limit, marking the cut. */
export function truncate(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

/**
 * Runs `work` for the job of a CodePipeline event and reports the result. A
 * thrown error fails the job with its message (and its causes'); it is not
 * rethrown, so Lambda does not retry a job that has already been answered.
 * Only a failure to report is thrown.
 */
export async function runJob(event: unknown, options: RunJobOptions, work: (job: CodePipelineJob) => Promise<JobResult>): Promise<JobOutcome> {
  let job: CodePipelineJob;
  try {
    job = jobOf(event);
  } catch (error) {
    // No job id: there is nothing to report to. Fail the invocation instead.
    (options.log ?? jsonLog()).error(describeError(error));
    throw error;
  }
  const jobId = job.id;
  // The Lambda event carries no pipeline name or execution id, only the job's id and account.
  const log = options.log ?? jsonLog({ jobId, accountId: job.accountId });
  let outcome: JobOutcome;
  try {
    const result = await work(job);
    outcome = { status: 'succeeded', jobId, result };
  } catch (error) {
    outcome = { status: 'failed', jobId, message: truncate(describeError(error), MAX_FAILURE_MESSAGE_LENGTH), error };
  }

  if (outcome.status === 'succeeded') {
    log.log(`job ${jobId} succeeded: ${outcome.result.summary}`, {
      jobId,
      status: 'succeeded',
      summary: outcome.result.summary,
      outputVariables: outcome.result.outputVariables,
    });
    const command = new PutJobSuccessResultCommand({
      jobId,
      outputVariables: { ...outcome.result.outputVariables },
      executionDetails: { summary: truncate(outcome.result.summary, MAX_SUMMARY_LENGTH), percentComplete: 100 },
    });
    await withRetry(() => options.codepipeline.send(command), options.retry);
  } else {
    log.error(`job ${jobId} failed: ${outcome.message}`, { jobId, status: 'failed' });
    const command = new PutJobFailureResultCommand({ jobId, failureDetails: { type: 'JobFailed', message: outcome.message } });
    await withRetry(() => options.codepipeline.send(command), options.retry);
  }
  return outcome;
}
