/** `dcf push --wait`: finds the execution the upload started and follows it stage by stage. */
import { GetPipelineStateCommand } from '@aws-sdk/client-codepipeline';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ExitCode } from '../src';
import { REGISTRY, codePipelineMock, resetMocks, s3Mock, s3Writes } from './support/factory-mocks';
import { IMAGE_FILES, Workspace } from './support/harness';
import { simulatePipeline, successfulRun } from './support/pipeline-simulator';
import { pipelineName } from '@devcontainer-factory/core';

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
  resetMocks();
});
afterEach(() => ws.cleanup());

const at = (ws: Workspace, offsetMs: number) => new Date(ws.clock.time + offsetMs);

test('follows the execution whose source revision is the uploaded version, stage by stage, and exits 0 when it succeeds', async () => {
  ws.write('python', IMAGE_FILES);
  const sim = simulatePipeline({
    executionId: 'exec-new',
    notStartedPolls: 2,
    executions: [
      { pipelineExecutionId: 'exec-new', status: 'InProgress', startTime: at(ws, 2000), sourceRevisions: [{ actionName: 'Source', revisionId: 'v-1' }] },
      { pipelineExecutionId: 'exec-old', status: 'Succeeded', startTime: at(ws, -86_400_000), sourceRevisions: [{ actionName: 'Source', revisionId: 'v-0' }] },
    ],
    frames: successfulRun(),
  });

  const { code, stdout, stderr } = await ws.run(['push', 'python', '--wait']);

  expect(code).toBe(ExitCode.Ok);
  expect(s3Writes()).toBe(1);
  expect(stderr).toContain(
    `Waiting for pipeline ${pipelineName('devcontainers', 'image', 'python')} to start…\nExecution exec-new of ${pipelineName('devcontainers', 'image', 'python')}:\n`,
  );
  const stageLines = stderr.split('\n').filter((l) => l.startsWith('  '));
  expect(stageLines).toEqual([
    '  … Source     InProgress',
    '  ✔ Source     Succeeded',
    '  … Prepare    InProgress',
    '  ✔ Prepare    Succeeded',
    '  … Build      InProgress',
    '  ✔ Build      Succeeded',
    '  … Manifest   InProgress',
    '  ✔ Manifest   Succeeded',
    '  … Test       InProgress',
    '  ✔ Test       Succeeded',
    '  … Release    InProgress',
    '  ✔ Release    Succeeded',
  ]);
  expect(stdout).toMatch(new RegExp(`✔ pipeline ${pipelineName('devcontainers', 'image', 'python')} succeeded in \\d+s`));
  expect(stdout).toContain(`docker pull ${REGISTRY}/devcontainers/images/python:1.2.3`);
  expect(sim.reads).toBe(successfulRun().length);
});

test('a failed stage exits 4 and says which stage failed and why', async () => {
  ws.write('python', IMAGE_FILES);
  simulatePipeline({
    executionId: 'exec-1',
    executions: [
      { pipelineExecutionId: 'exec-1', status: 'InProgress', startTime: at(ws, 1000), sourceRevisions: [{ actionName: 'Source', revisionId: 'v-1' }] },
    ],
    frames: [
      { status: 'InProgress', stages: { Source: 'Succeeded', Prepare: 'Succeeded', Build: 'InProgress' } },
      {
        status: 'Failed',
        stages: { Source: 'Succeeded', Prepare: 'Succeeded', Build: 'Failed' },
        failure: 'Build failed: exit status 1 in RUN apt-get install nodejs',
      },
    ],
  });

  const { code, stderr } = await ws.run(['push', 'python', '--wait']);

  expect(code).toBe(ExitCode.PipelineFailed);
  expect(stderr).toContain('  ✖ Build      Failed: Build: Build failed: exit status 1 in RUN apt-get install nodejs');
  expect(stderr).toContain(
    `error: pipeline ${pipelineName('devcontainers', 'image', 'python')} ended Failed at stage Build (Build: Build failed: exit status 1 in RUN apt-get install nodejs): see the stage's logs`,
  );
});

test('skipped stages (an unchanged build) show as skipped, and --json returns the whole report', async () => {
  ws.write('python', IMAGE_FILES);
  simulatePipeline({
    executionId: 'exec-1',
    executions: [
      { pipelineExecutionId: 'exec-1', status: 'InProgress', startTime: at(ws, 1000), sourceRevisions: [{ actionName: 'Source', revisionId: 'v-1' }] },
    ],
    frames: [
      { status: 'InProgress', stages: { Source: 'Succeeded', Prepare: 'InProgress' } },
      {
        status: 'Succeeded',
        stages: { Source: 'Succeeded', Prepare: 'Succeeded', Build: 'Skipped', Manifest: 'Skipped', Test: 'Skipped', Release: 'Succeeded' },
      },
    ],
  });

  const { code, stdout, stderr } = await ws.run(['push', 'python', '--wait', '--json']);

  expect(code).toBe(ExitCode.Ok);
  expect(stderr).toBe('');
  const result = JSON.parse(stdout);
  expect(result).toMatchObject({
    kind: 'image',
    id: 'python',
    key: 'devcontainers/images/python.zip',
    versionId: 'v-1',
    pipeline: pipelineName('devcontainers', 'image', 'python'),
  });
  expect(result.execution).toMatchObject({ executionId: 'exec-1', status: 'Succeeded' });
  expect(result.execution.stages.map((s: { name: string; status: string }) => `${s.name}:${s.status}`)).toEqual([
    'Source:Succeeded',
    'Prepare:Succeeded',
    'Build:Skipped',
    'Manifest:Skipped',
    'Test:Skipped',
    'Release:Succeeded',
  ]);
});

test('without object versions, it follows the first execution that started after the upload', async () => {
  ws.write('python', IMAGE_FILES);
  s3Mock.on(PutObjectCommand).resolves({ ETag: '"etag"' });
  simulatePipeline({
    executionId: 'exec-after',
    executions: [
      { pipelineExecutionId: 'exec-later', status: 'InProgress', startTime: at(ws, 120_000) },
      { pipelineExecutionId: 'exec-after', status: 'InProgress', startTime: at(ws, 3000) },
      { pipelineExecutionId: 'exec-before', status: 'Succeeded', startTime: at(ws, -3_600_000) },
    ],
    frames: successfulRun(),
  });

  const { code, stderr } = await ws.run(['push', 'python', '--wait']);

  expect(code).toBe(ExitCode.Ok);
  expect(stderr).toContain(`Execution exec-after of ${pipelineName('devcontainers', 'image', 'python')}:`);
});

test('an execution still running at --timeout exits 5 and says how to keep following it', async () => {
  ws.write('python', IMAGE_FILES);
  simulatePipeline({
    executionId: 'exec-1',
    executions: [
      { pipelineExecutionId: 'exec-1', status: 'InProgress', startTime: at(ws, 1000), sourceRevisions: [{ actionName: 'Source', revisionId: 'v-1' }] },
    ],
    frames: [{ status: 'InProgress', stages: { Source: 'Succeeded', Build: 'InProgress' } }],
  });

  const { code, stderr } = await ws.run(['push', 'python', '--wait', '--timeout', '2']);

  expect(code).toBe(ExitCode.Timeout);
  expect(stderr).toContain(
    `error: pipeline ${pipelineName('devcontainers', 'image', 'python')} was still running after 2 minutes: follow it with "dcf status python"`,
  );
});

test('an upload that starts no execution exits 5 and points at the trigger', async () => {
  ws.write('python', IMAGE_FILES);
  simulatePipeline({ executionId: 'never', executions: [], frames: successfulRun() });

  const { code, stderr } = await ws.run(['push', 'python', '--wait']);

  expect(code).toBe(ExitCode.Timeout);
  expect(stderr).toContain(
    `error: no execution of pipeline ${pipelineName('devcontainers', 'image', 'python')} started within 5m 0s of the upload: check its EventBridge rule for s3://dcf-source-123/devcontainers/images/python.zip`,
  );
});

test('without --wait, a pipeline that is not deployed yet is a warning: the upload happens', async () => {
  ws.write('python', IMAGE_FILES);
  codePipelineMock.on(GetPipelineStateCommand).rejects(Object.assign(new Error('no'), { name: 'PipelineNotFoundException' }));

  const { code, stdout, stderr } = await ws.run(['push', 'python']);

  expect(code).toBe(ExitCode.Ok);
  expect(s3Mock.commandCalls(PutObjectCommand)[0].args[0].input).toMatchObject({
    Bucket: 'dcf-source-123',
    Key: 'devcontainers/images/python.zip',
    ContentType: 'application/zip',
  });
  expect(stdout).toContain('✔ uploaded image python');
  expect(stderr).toContain(
    `warning: no pipeline ${pipelineName('devcontainers', 'image', 'python')} for image 'python' in namespace 'devcontainers': add 'python' to the catalog and deploy it`,
  );
  expect(stderr).toContain('The upload starts nothing until then.');
});
