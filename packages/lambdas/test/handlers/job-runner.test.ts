import { CodePipelineClient, PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import { MAX_FAILURE_MESSAGE_LENGTH, describeError, jsonLog, runJob } from '../../src/codepipeline/job-runner';
import { jobEvent, noWait, quietLog, sdkError } from './job-fixtures';

const codepipeline = mockClient(CodePipelineClient);
const options = { codepipeline: new CodePipelineClient({ region: 'eu-west-1' }), retry: noWait, log: quietLog };

beforeEach(() => codepipeline.reset());

test('a job whose work succeeds is reported with its output variables and summary', async () => {
  // GIVEN
  codepipeline.on(PutJobSuccessResultCommand).resolves({});
  // WHEN
  const outcome = await runJob(jobEvent({}), options, async () => ({ outputVariables: { BuildId: 'abc' }, summary: 'done' }));
  // THEN
  expect(outcome.status).toBe('succeeded');
  const calls = codepipeline.commandCalls(PutJobSuccessResultCommand);
  expect(calls).toHaveLength(1);
  expect(calls[0].args[0].input).toEqual({ jobId: 'job-1', outputVariables: { BuildId: 'abc' }, executionDetails: { summary: 'done', percentComplete: 100 } });
  expect(codepipeline.commandCalls(PutJobFailureResultCommand)).toHaveLength(0);
});

test('a job whose work throws is failed with the message and its cause, and the error is not rethrown', async () => {
  // GIVEN
  codepipeline.on(PutJobFailureResultCommand).resolves({});
  const error = new Error('release refused', { cause: new Error('1.2.3 is taken') });
  // WHEN
  const outcome = await runJob(jobEvent({}), options, async () => {
    throw error;
  });
  // THEN
  expect(outcome.status).toBe('failed');
  const input = codepipeline.commandCalls(PutJobFailureResultCommand)[0].args[0].input;
  expect(input).toEqual({ jobId: 'job-1', failureDetails: { type: 'JobFailed', message: 'release refused (caused by: 1.2.3 is taken)' } });
  expect(codepipeline.commandCalls(PutJobSuccessResultCommand)).toHaveLength(0);
});

test('a failure message is cut to the 5000 characters CodePipeline accepts', async () => {
  codepipeline.on(PutJobFailureResultCommand).resolves({});
  await runJob(jobEvent({}), options, async () => {
    throw new Error('x'.repeat(9000));
  });
  const message = codepipeline.commandCalls(PutJobFailureResultCommand)[0].args[0].input.failureDetails!.message!;
  expect(message).toHaveLength(MAX_FAILURE_MESSAGE_LENGTH);
  expect(message.endsWith('…')).toBe(true);
});

test('a throttled PutJobSuccessResult is retried until it goes through', async () => {
  // GIVEN CodePipeline throttles twice
  codepipeline.on(PutJobSuccessResultCommand).rejectsOnce(sdkError('ThrottlingException')).rejectsOnce(sdkError('ThrottlingException')).resolves({});
  // WHEN
  const outcome = await runJob(jobEvent({}), options, async () => ({ outputVariables: {}, summary: 'ok' }));
  // THEN
  expect(outcome.status).toBe('succeeded');
  expect(codepipeline.commandCalls(PutJobSuccessResultCommand)).toHaveLength(3);
});

test('a report that CodePipeline refuses for good is thrown, so the invocation fails visibly', async () => {
  codepipeline.on(PutJobFailureResultCommand).rejects(sdkError('InvalidJobStateException'));
  await expect(
    runJob(jobEvent({}), options, async () => {
      throw new Error('boom');
    }),
  ).rejects.toThrow(/InvalidJobStateException/);
  expect(codepipeline.commandCalls(PutJobFailureResultCommand)).toHaveLength(1);
});

test('an event that is not a CodePipeline job is rejected without calling CodePipeline', async () => {
  await expect(runJob({ Records: [] }, options, async () => ({ outputVariables: {}, summary: '' }))).rejects.toThrow(/not a CodePipeline job/);
  expect(codepipeline.calls()).toHaveLength(0);
});

test('describeError joins nested causes once each', () => {
  expect(describeError(new Error('a', { cause: new Error('b', { cause: 'c' }) }))).toBe('a (caused by: b (caused by: c))');
});

describe('the default log', () => {
  /** Every line written to stdout and stderr while `run` runs, parsed as JSON (a line that is not JSON fails the test). */
  async function linesOf(run: () => Promise<unknown>): Promise<{ stdout: Record<string, unknown>[]; stderr: Record<string, unknown>[] }> {
    const written = { stdout: [] as string[], stderr: [] as string[] };
    const spies = (['stdout', 'stderr'] as const).map((name) =>
      jest.spyOn(process[name], 'write').mockImplementation((chunk: string | Uint8Array) => (written[name].push(String(chunk)), true)),
    );
    try {
      await run().catch(() => undefined);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    const parse = (chunks: string[]) =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    return { stdout: parse(written.stdout), stderr: parse(written.stderr) };
  }
  const { log: _quiet, ...withDefaultLog } = options;

  test('a success is one JSON line on stdout with level, message, timestamp, the job id and the output variables', async () => {
    codepipeline.on(PutJobSuccessResultCommand).resolves({});
    const { stdout, stderr } = await linesOf(() =>
      runJob(jobEvent({}), withDefaultLog, async () => ({ outputVariables: { BuildId: 'abc' }, summary: 'done' })),
    );
    expect(stderr).toEqual([]);
    expect(stdout).toHaveLength(1);
    expect(stdout[0]).toEqual(
      expect.objectContaining({
        level: 'INFO',
        message: 'job job-1 succeeded: done',
        jobId: 'job-1',
        accountId: '123456789012',
        status: 'succeeded',
        outputVariables: { BuildId: 'abc' },
      }),
    );
    expect(new Date(String(stdout[0].timestamp)).toISOString()).toBe(stdout[0].timestamp);
  });

  test('a failure is one JSON line on stderr at level ERROR with the job id and the whole message', async () => {
    codepipeline.on(PutJobFailureResultCommand).resolves({});
    const { stdout, stderr } = await linesOf(() =>
      runJob(jobEvent({}, { id: 'job-2' }), withDefaultLog, async () => {
        throw new Error('release refused', { cause: new Error('1.2.3 is taken') });
      }),
    );
    expect(stdout).toEqual([]);
    expect(stderr).toEqual([
      expect.objectContaining({ level: 'ERROR', message: 'job job-2 failed: release refused (caused by: 1.2.3 is taken)', jobId: 'job-2', status: 'failed' }),
    ]);
  });

  test('an event that is not a job is logged as JSON too, without a job id', async () => {
    const { stderr } = await linesOf(() => runJob({ Records: [] }, withDefaultLog, async () => ({ outputVariables: {}, summary: '' })));
    expect(stderr).toHaveLength(1);
    expect(stderr[0]).toEqual(expect.objectContaining({ level: 'ERROR', message: expect.stringMatching(/not a CodePipeline job/) }));
    expect(stderr[0]).not.toHaveProperty('jobId');
  });
});

describe('jsonLog', () => {
  const NOW = new Date('2025-03-10T12:00:00.000Z');
  const capture = () => {
    const out: string[] = [];
    const err: string[] = [];
    const log = jsonLog({ jobId: 'job-9' }, { stdout: { write: (l: string) => out.push(l) }, stderr: { write: (l: string) => err.push(l) }, now: () => NOW });
    return { log, out, err };
  };

  test('writes one line per call, formats the message like console, and merges a last plain object as fields', () => {
    const { log, out } = capture();
    log.log('deleted %d of %s', 3, 'repo', { repository: 'ns/images/python' });
    log.log('multi\nline');
    expect(out).toHaveLength(2);
    expect(out.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n'))).toBe(true);
    expect(JSON.parse(out[0])).toEqual({
      level: 'INFO',
      message: 'deleted 3 of repo',
      timestamp: '2025-03-10T12:00:00.000Z',
      jobId: 'job-9',
      repository: 'ns/images/python',
    });
    expect(JSON.parse(out[1]).message).toBe('multi\nline');
  });

  test('an error goes to stderr with its name, message and stack', () => {
    const { log, out, err } = capture();
    log.error('report failed', new RangeError('too big'));
    expect(out).toEqual([]);
    const line = JSON.parse(err[0]);
    expect(line).toEqual(
      expect.objectContaining({
        level: 'ERROR',
        jobId: 'job-9',
        error: expect.objectContaining({ name: 'RangeError', message: 'too big', stack: expect.stringContaining('RangeError') }),
      }),
    );
  });
});
