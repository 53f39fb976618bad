/**
 * The CloudFormation custom resource protocol for a Lambda that is its own service
 * token (as aws-cdk's `CustomResourceProvider` handlers are): run the work, then PUT the
 * outcome to the request's pre-signed `ResponseURL`. Every outcome is answered — a
 * failure with its message, and, when the work is still running shortly before the
 * function's time-out, a failure that says so — so that CloudFormation never waits for
 * an answer that will not come. Only a response that cannot be delivered fails the
 * invocation (Lambda then retries it; the work must be idempotent).
 */
import { FactoryError, isThrottlingError, isTransientNetworkError, withRetry, type RetryOptions } from '@devcontainer-factory/core';

/** What CloudFormation sends a Lambda-backed custom resource. */
export interface CustomResourceRequest {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly ResourceType: string;
  readonly LogicalResourceId: string;
  /** Absent on Create. */
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: Readonly<Record<string, unknown>>;
  /** On Update: the properties of the previous deploy. */
  readonly OldResourceProperties?: Readonly<Record<string, unknown>>;
}

/** What the work returns when it succeeds. */
export interface CustomResourceResult {
  readonly PhysicalResourceId: string;
  /** `Fn::GetAtt` attributes. */
  readonly Data?: Readonly<Record<string, string>>;
}

/** The body CloudFormation expects at the `ResponseURL`. */
export interface CustomResourceResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly Data?: Readonly<Record<string, string>>;
}

/** The Lambda context, as far as the protocol reads it. */
export interface CustomResourceInvocation {
  getRemainingTimeInMillis(): number;
}

/** Thrown when the response could not be delivered to CloudFormation (after the retries). */
export class CustomResourceResponseError extends FactoryError {}

/** CloudFormation takes a response body of at most 4,096 bytes: the reason is cut to fit. */
export const MAX_REASON_LENGTH = 2048;
/** How long before the function's time-out an unfinished request is answered as failed. */
export const RESPONSE_MARGIN_MS = 15_000;
/**
 * The physical id of a create that failed: never one the work returns, so the delete
 * CloudFormation sends when it rolls the create back can tell that nothing was created.
 */
export const CREATE_FAILED_PHYSICAL_ID = 'devcontainer-factory:create-failed';

export interface CustomResourceOptions {
  /**
   * Where to log.
   * @default - console
   */
  readonly log?: { log(line: string): void; error(line: string): void };
  /**
   * The `fetch` that delivers the response.
   * @default - the global `fetch`
   */
  readonly fetch?: typeof fetch;
  /**
   * How to retry a response that S3 refused as busy or whose connection dropped.
   * @default - 5 retries with exponential backoff from 200 ms
   */
  readonly retry?: RetryOptions;
  /**
   * How long before the time-out an unfinished request is answered as failed.
   * @default RESPONSE_MARGIN_MS
   */
  readonly marginMs?: number;
}

/** Delivers `response` to the pre-signed `url`. */
export async function sendCustomResourceResponse(url: string, response: CustomResourceResponse, options: CustomResourceOptions = {}): Promise<void> {
  const body = JSON.stringify({ ...response, ...(response.Reason !== undefined && { Reason: response.Reason.slice(0, MAX_REASON_LENGTH) }) });
  const send = options.fetch ?? fetch;
  try {
    await withRetry(
      async () => {
        // The URL is signed without a content type: send none.
        const answer = await send(url, { method: 'PUT', body, headers: { 'content-type': '' } });
        if (!answer.ok) throw Object.assign(new Error(`HTTP ${answer.status} ${answer.statusText}`), { status: answer.status });
      },
      { ...options.retry, isRetryable: (e) => isThrottlingError(e) || isTransientNetworkError(e) },
    );
  } catch (error) {
    throw new CustomResourceResponseError(
      `the ${response.Status} response to CloudFormation for ${response.LogicalResourceId} (request ${response.RequestId}) could not be delivered: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

/**
 * A Lambda handler that runs `work` for each request and answers CloudFormation. On a
 * failure, the physical id is the request's (Update, Delete) or
 * {@link CREATE_FAILED_PHYSICAL_ID} (Create).
 */
export function customResourceHandler<E extends CustomResourceRequest>(work: (event: E) => Promise<CustomResourceResult>, options: CustomResourceOptions = {}) {
  const log = options.log ?? { log: (line: string) => console.log(line), error: (line: string) => console.error(line) };
  return async (event: E, context?: CustomResourceInvocation): Promise<void> => {
    const base = { StackId: event.StackId, RequestId: event.RequestId, LogicalResourceId: event.LogicalResourceId };
    const failed = (reason: string): CustomResourceResponse => ({
      ...base,
      Status: 'FAILED',
      Reason: reason,
      PhysicalResourceId: event.PhysicalResourceId ?? CREATE_FAILED_PHYSICAL_ID,
    });
    let timer: NodeJS.Timeout | undefined;
    const deadline = context
      ? new Promise<CustomResourceResponse>((resolve) => {
          const ms = Math.max(0, context.getRemainingTimeInMillis() - (options.marginMs ?? RESPONSE_MARGIN_MS));
          timer = setTimeout(
            () =>
              resolve(
                failed(
                  `the ${event.RequestType} did not finish within the function's time-out (it may still be retried, or finish later): see the function's log`,
                ),
              ),
            ms,
          );
        })
      : undefined;
    const done = work(event).then(
      (result): CustomResourceResponse => ({
        ...base,
        Status: 'SUCCESS',
        PhysicalResourceId: result.PhysicalResourceId,
        ...(result.Data && { Data: result.Data }),
      }),
      (error: unknown): CustomResourceResponse => failed(error instanceof Error ? `${error.name}: ${error.message}` : String(error)),
    );
    try {
      const response = await (deadline ? Promise.race([done, deadline]) : done);
      log.log(`${event.RequestType} ${event.LogicalResourceId}: ${response.Status}${response.Reason ? ` (${response.Reason})` : ''}`);
      await sendCustomResourceResponse(event.ResponseURL, response, options);
    } finally {
      if (timer) clearTimeout(timer);
    }
  };
}
