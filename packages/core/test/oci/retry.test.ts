import { isThrottlingError, isTransientNetworkError, withRetry } from '../../src/oci/retry';

function failing(errors: unknown[], value = 'ok') {
  let calls = 0;
  const fn = async () => {
    const error = errors[calls++];
    if (error) throw error;
    return value;
  };
  return { fn, calls: () => calls };
}

const named = (name: string, httpStatusCode = 400) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode } });

describe('withRetry', () => {
  test('GIVEN three throttled attempts WHEN retried THEN the waits grow exponentially with full jitter and the fourth attempt wins', async () => {
    // GIVEN
    const { fn, calls } = failing([named('ThrottlingException'), named('TooManyRequestsException'), Object.assign(new Error('busy'), { status: 503 })]);
    const delays: number[] = [];

    // WHEN
    const result = await withRetry(fn, { baseDelayMs: 100, sleep: async (ms) => void delays.push(ms), random: () => 0.5 });

    // THEN
    expect(result).toBe('ok');
    expect(calls()).toBe(4);
    expect(delays).toEqual([50, 100, 200]);
  });

  test('GIVEN a long run of throttling WHEN retried THEN no wait is longer than maxDelayMs', async () => {
    // GIVEN
    const { fn } = failing(Array.from({ length: 8 }, () => named('ThrottlingException')));
    const delays: number[] = [];

    // WHEN
    await withRetry(fn, { retries: 8, baseDelayMs: 100, maxDelayMs: 1000, sleep: async (ms) => void delays.push(ms), random: () => 0.999 });

    // THEN
    expect(Math.max(...delays)).toBeLessThanOrEqual(1000);
    expect(delays.slice(-3)).toEqual([999, 999, 999]);
  });

  test('GIVEN an error that is not throttling WHEN retried THEN it is thrown at once, unchanged', async () => {
    // GIVEN
    const denied = named('AccessDeniedException', 403);
    const { fn, calls } = failing([denied]);

    // WHEN / THEN
    await expect(withRetry(fn, { sleep: async () => undefined })).rejects.toBe(denied);
    expect(calls()).toBe(1);
  });

  test('GIVEN throttling on every attempt WHEN retried THEN the last error is thrown after retries + 1 attempts', async () => {
    // GIVEN
    const errors = Array.from({ length: 4 }, (_, i) => named(`ThrottlingException`, 400 + i));
    const { fn, calls } = failing(errors);

    // WHEN / THEN
    await expect(withRetry(fn, { retries: 3, sleep: async () => undefined })).rejects.toBe(errors[3]);
    expect(calls()).toBe(4);
  });
});

describe('isThrottlingError', () => {
  test.each([
    ['ThrottlingException', named('ThrottlingException'), true],
    ['TooManyRequestsException', named('TooManyRequestsException'), true],
    ['an SDK error with HTTP 500', named('ServerException', 500), true],
    ['an HTTP 429 answer', { status: 429 }, true],
    ['an HTTP 502 answer', { status: 502 }, true],
    ['an HTTP 404 answer', { status: 404 }, false],
    ['RepositoryNotFoundException', named('RepositoryNotFoundException'), false],
    ['a network error', new TypeError('fetch failed'), false],
    ['a string', 'ThrottlingException', false],
  ])('GIVEN %s WHEN classified THEN retryable is %s', (_what, error, expected) => {
    expect(isThrottlingError(error)).toBe(expected);
  });
});

describe('isTransientNetworkError', () => {
  const fetchFailed = (cause: unknown) => Object.assign(new TypeError('fetch failed'), { cause });
  test.each([
    ['fetch failed, caused by ECONNRESET', fetchFailed(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })), true],
    ['fetch failed, caused by undici closing the socket', fetchFailed(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })), true],
    ['socket hang up', new Error('socket hang up'), true],
    ['EPIPE two causes deep', new Error('wrapped', { cause: fetchFailed(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })) }), true],
    ['a refused connection (nothing listens)', fetchFailed(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), false],
    ['an unknown host', fetchFailed(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' })), false],
    ['an HTTP 503 answer', { status: 503 }, false],
    [
      'a cause chain that loops',
      (() => {
        const e: { cause?: unknown } = {};
        e.cause = e;
        return e;
      })(),
      false,
    ],
  ])('GIVEN %s WHEN classified THEN transient is %s', (_what, error, expected) => {
    expect(isTransientNetworkError(error)).toBe(expected);
  });
});
