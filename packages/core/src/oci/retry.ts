/**
 * Retries registry calls that the registry refused because it was busy: ECR API
 * throttling and HTTP 429 / 5xx answers, and (for requests that are safe to repeat)
 * a connection the network or the registry dropped ({@link isTransientNetworkError}).
 * Nothing else is retried: a missing repository, a denied permission, a refused
 * connection or a time-out fails at once.
 */

export interface RetryOptions {
  /**
   * Retries after the first attempt.
   * @default 5
   */
  readonly retries?: number;
  /**
   * Base of the exponential backoff: attempt n waits a random time in `[0, baseDelayMs * 2^n)` ("full jitter").
   * @default 200
   */
  readonly baseDelayMs?: number;
  /**
   * Longest wait between two attempts.
   * @default 20000
   */
  readonly maxDelayMs?: number;
  /**
   * Which errors are worth another attempt.
   * @default - {@link isThrottlingError}: ECR throttling and HTTP 429 / 5xx
   */
  readonly isRetryable?: (error: unknown) => boolean;
  /**
   * Waits between attempts; tests pass one that does not wait.
   * @default - a `setTimeout` promise
   */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Source of jitter in `[0, 1)`.
   * @default Math.random
   */
  readonly random?: () => number;
}

/** Error names the AWS SDK gives to throttled calls. */
export const THROTTLING_ERROR_NAMES: readonly string[] = ['ThrottlingException', 'TooManyRequestsException'];

/** An HTTP status code carried by an SDK error (`$metadata.httpStatusCode`) or a registry HTTP error (`status`). */
export function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { status?: unknown; $metadata?: { httpStatusCode?: unknown } };
  if (typeof e.status === 'number') return e.status;
  if (typeof e.$metadata?.httpStatusCode === 'number') return e.$metadata.httpStatusCode;
  return undefined;
}

/** True for ECR throttling (`ThrottlingException`, `TooManyRequestsException`) and HTTP 429 / 5xx. */
export function isThrottlingError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const name = (error as { name?: unknown }).name;
  if (typeof name === 'string' && THROTTLING_ERROR_NAMES.includes(name)) return true;
  const status = httpStatusOf(error);
  return status !== undefined && (status === 429 || status >= 500);
}

/**
 * Error codes of a connection that broke after it was made (Node `net` and undici),
 * so that the same request may well succeed on a new connection. A refused
 * connection (`ECONNREFUSED`) or an unknown host is not one: nothing is listening.
 */
export const TRANSIENT_NETWORK_ERROR_CODES: readonly string[] = ['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'];

/**
 * True when `error`, or an error in its `cause` chain, is a dropped connection: one of
 * {@link TRANSIENT_NETWORK_ERROR_CODES}, or Node's `socket hang up`. Only worth
 * retrying for requests that have the same effect when repeated (GET, HEAD, PUT of
 * a manifest); see {@link withRetry}.
 */
export function isTransientNetworkError(error: unknown): boolean {
  let e: unknown = error;
  for (let depth = 0; depth < 8 && typeof e === 'object' && e !== null; depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && TRANSIENT_NETWORK_ERROR_CODES.includes(code)) return true;
    if (message === 'socket hang up') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn`, and runs it again after an exponential backoff with full jitter while
 * it fails with a retryable error, at most `retries` more times. The last error is
 * thrown unchanged.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const retries = options.retries ?? 5;
  const baseDelayMs = options.baseDelayMs ?? 200;
  const maxDelayMs = options.maxDelayMs ?? 20_000;
  const isRetryable = options.isRetryable ?? isThrottlingError;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= retries || !isRetryable(error)) throw error;
      await sleep(Math.floor(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** attempt)));
    }
  }
}
