import { CodePipelineClient, PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import { MAX_FAILURE_MESSAGE_LENGTH, describeError, runJob } from '../../src/codepipeline/job-runner';
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
  codepipeline
    .on(PutJobSuccessResultCommand)
    .rejectsOnce(sdkError('ThrottlingException'))
    .rejectsOnce(sdkError('ThrottlingException'))
    .resolves({});
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
