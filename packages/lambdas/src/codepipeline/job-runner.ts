/**
 * The one way a handler ends a CodePipeline job: success with output variables,
 * or failure with a message that says what to fix. Reporting is retried on
 * throttling, so a busy account does not leave an action hanging until timeout.
 */
import { PutJobFailureResultCommand, PutJobSuccessResultCommand, type CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { withRetry, type RetryOptions } from '../registry/retry';
import { jobOf, type CodePipelineJob } from './job-event';

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
   * @default console
   */
  readonly log?: Pick<Console, 'log' | 'error'>;
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
  const log = options.log ?? console;
  let job: CodePipelineJob;
  try {
    job = jobOf(event);
  } catch (error) {
    // No job id: there is nothing to report to. Fail the invocation instead.
    log.error(describeError(error));
    throw error;
  }
  const jobId = job.id;
  let outcome: JobOutcome;
  try {
    const result = await work(job);
    outcome = { status: 'succeeded', jobId, result };
  } catch (error) {
    outcome = { status: 'failed', jobId, message: truncate(describeError(error), MAX_FAILURE_MESSAGE_LENGTH), error };
  }

  if (outcome.status === 'succeeded') {
    log.log(JSON.stringify({ jobId, status: 'succeeded', summary: outcome.result.summary, outputVariables: outcome.result.outputVariables }));
    const command = new PutJobSuccessResultCommand({
      jobId,
      outputVariables: { ...outcome.result.outputVariables },
      executionDetails: { summary: truncate(outcome.result.summary, MAX_SUMMARY_LENGTH), percentComplete: 100 },
    });
    await withRetry(() => options.codepipeline.send(command), options.retry);
  } else {
    log.error(JSON.stringify({ jobId, status: 'failed', message: outcome.message }));
    const command = new PutJobFailureResultCommand({ jobId, failureDetails: { type: 'JobFailed', message: outcome.message } });
    await withRetry(() => options.codepipeline.send(command), options.retry);
  }
  return outcome;
}
