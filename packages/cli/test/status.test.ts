/** `dcf status [id]`: the latest execution of each pipeline, stage by stage. */
import { GetPipelineStateCommand, ListPipelinesCommand } from '@aws-sdk/client-codepipeline';
import { HeadObjectCommand, NotFound, S3ServiceException } from '@aws-sdk/client-s3';
import { ExitCode } from '../src';
import { SOURCE_BUCKET, codePipelineMock, deployedFactory, resetMocks, s3Mock } from './support/factory-mocks';
import { Workspace } from './support/harness';
import { simulatePipeline } from './support/pipeline-simulator';
import { pipelineName } from '@devcontainer-factory/core';

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
  resetMocks();
});
afterEach(() => ws.cleanup());

const started = new Date('2025-01-01T11:00:00Z');

function threePipelines(): void {
  codePipelineMock
    .on(ListPipelinesCommand)
    .resolvesOnce({
      pipelines: [{ name: pipelineName('devcontainers', 'image', 'python') }, { name: pipelineName('other', 'image', 'go') }],
      nextToken: 'page-2',
    })
    .resolves({
      pipelines: [{ name: pipelineName('devcontainers', 'feature', 'hello') }, { name: pipelineName('devcontainers', 'image', 'node') }],
    });
}

test('shows the latest execution of every pipeline of the namespace, stage by stage', async () => {
  threePipelines();
  simulatePipeline({
    executionId: 'exec-1',
    executions: [{ pipelineExecutionId: 'exec-1', status: 'InProgress', startTime: started }],
    frames: [{ status: 'InProgress', stages: { Source: 'Succeeded', Prepare: 'Succeeded', Build: 'InProgress' } }],
  });

  const { code, stdout } = await ws.run(['status']);

  expect(code).toBe(ExitCode.Ok);
  expect(stdout).toContain('… feature hello  InProgress  started 2025-01-01T11:00:00.000Z  execution exec-1');
  expect(stdout).toContain('… image node  InProgress');
  expect(stdout).toContain('… image python  InProgress');
  expect(stdout).not.toContain(' go ');
  expect(stdout).toContain(['    ✔ Source     Succeeded', '    ✔ Prepare    Succeeded', '    … Build      InProgress', '    · Manifest   Pending'].join('\n'));
});

test("Prepare's Reason says why the image is built: what moved since the release latest points at", async () => {
  simulatePipeline({
    executionId: 'exec-2',
    executions: [{ pipelineExecutionId: 'exec-2', status: 'InProgress', startTime: started }],
    frames: [
      {
        status: 'InProgress',
        stages: { Source: 'Succeeded', Prepare: 'Succeeded', Build: 'InProgress' },
        reason: 'build 0123456789abcdef: feature r/devcontainers/features/hello:1 moved to sha256:aaaaaaaaaaaa (from sha256:bbbbbbbbbbbb)',
      },
    ],
  });

  const { code, stdout } = await ws.run(['status', 'python']);
  const json = JSON.parse((await ws.run(['status', 'python', '--json'])).stdout);

  expect(code).toBe(ExitCode.Ok);
  expect(stdout).toContain(
    '    ✔ Prepare    Succeeded (build 0123456789abcdef: feature r/devcontainers/features/hello:1 moved to sha256:aaaaaaaaaaaa (from sha256:bbbbbbbbbbbb))',
  );
  expect(json[0].execution.stages[1]).toEqual({
    name: 'Prepare',
    status: 'Succeeded',
    note: expect.stringMatching(/^build 0123456789abcdef: feature .* moved to/),
  });
});

test('one id, as JSON: the pipeline, its latest execution and its stages', async () => {
  simulatePipeline({
    executionId: 'exec-9',
    executions: [{ pipelineExecutionId: 'exec-9', status: 'Failed', startTime: started, sourceRevisions: [{ actionName: 'Source', revisionId: 'v-9' }] }],
    frames: [{ status: 'Failed', stages: { Source: 'Succeeded', Prepare: 'Failed' }, failure: 'the configuration has no version' }],
  });

  const { code, stdout } = await ws.run(['status', 'python', '--json']);

  expect(code).toBe(ExitCode.Ok);
  expect(JSON.parse(stdout)).toEqual([
    {
      pipeline: pipelineName('devcontainers', 'image', 'python'),
      kind: 'image',
      id: 'python',
      status: 'failed',
      execution: {
        pipeline: pipelineName('devcontainers', 'image', 'python'),
        executionId: 'exec-9',
        status: 'Failed',
        sourceRevision: 'v-9',
        startTime: '2025-01-01T11:00:00.000Z',
        stages: [
          { name: 'Source', status: 'Succeeded' },
          { name: 'Prepare', status: 'Failed', message: 'Prepare: the configuration has no version' },
          { name: 'Build', status: 'NotRun' },
          { name: 'Manifest', status: 'NotRun' },
          { name: 'Test', status: 'NotRun' },
          { name: 'Release', status: 'NotRun' },
        ],
      },
    },
  ]);
  // A failure after Source is a failure: nothing to check in the source bucket.
  expect(s3Mock.commandCalls(HeadObjectCommand)).toHaveLength(0);
});

test('finds a feature pipeline when there is no image of that id, and says when it never ran', async () => {
  simulatePipeline({ executionId: 'x', executions: [], frames: [{ status: 'InProgress', stages: {} }] });
  codePipelineMock
    .on(GetPipelineStateCommand, { name: pipelineName('devcontainers', 'image', 'hello') })
    .rejects(Object.assign(new Error('no'), { name: 'PipelineNotFoundException' }));

  const { code, stdout } = await ws.run(['status', 'hello']);

  expect(code).toBe(ExitCode.Ok);
  expect(stdout).toBe('· feature hello  never run\n');
});

test('an id without a pipeline is an error that names what was looked for', async () => {
  codePipelineMock.on(GetPipelineStateCommand).rejects(Object.assign(new Error('no'), { name: 'PipelineNotFoundException' }));

  const { code, stderr } = await ws.run(['status', 'ruby', '--namespace', 'team-a']);

  expect(code).toBe(ExitCode.Aws);
  expect(stderr).toContain(
    `error: no pipeline for image or feature 'ruby' in namespace 'team-a' (looked for ${pipelineName('team-a', 'image', 'ruby')}, ${pipelineName('team-a', 'feature', 'ruby')}): check the id and --namespace, or add it to the catalog and deploy`,
  );
});

test('an empty namespace says how to add pipelines', async () => {
  codePipelineMock.on(ListPipelinesCommand).resolves({ pipelines: [{ name: pipelineName('other', 'image', 'go') }] });

  const { code, stdout } = await ws.run(['status']);

  expect(code).toBe(ExitCode.Ok);
  expect(stdout).toContain("no pipelines in namespace 'devcontainers': add images or features to the catalog and deploy");
});

describe('a latest execution that failed in Source', () => {
  /** The run CodePipeline starts when it creates a pipeline, before anything was uploaded. */
  function firstRunFailedInSource(): void {
    simulatePipeline({
      executionId: 'exec-0',
      executions: [{ pipelineExecutionId: 'exec-0', status: 'Failed', startTime: started }],
      frames: [{ status: 'Failed', stages: { Source: 'Failed' }, failure: 'The object with key devcontainers/images/python.zip does not exist' }],
    });
  }

  test('with no source object (HeadObject 404) is waiting for the first upload, with the push that uploads it, and exits 0', async () => {
    // GIVEN
    firstRunFailedInSource();
    s3Mock.on(HeadObjectCommand).rejects(new NotFound({ message: 'NotFound', $metadata: { httpStatusCode: 404 } }));

    // WHEN
    const { code, stdout } = await ws.run(['status', 'python']);

    // THEN
    expect(code).toBe(ExitCode.Ok);
    expect(stdout).toBe(
      '◌ image python  waiting for the first upload  execution exec-0\n' +
        `    hint: dcf push <folder> uploads its first configuration to s3://${SOURCE_BUCKET}/devcontainers/images/python.zip\n`,
    );
    expect(stdout).not.toMatch(/✖|Failed/);
    expect(s3Mock.commandCalls(HeadObjectCommand).map((c) => c.args[0].input)).toEqual([{ Bucket: SOURCE_BUCKET, Key: 'devcontainers/images/python.zip' }]);
  });

  test('with no source object, as JSON: status waiting-for-upload beside the execution as CodePipeline reports it', async () => {
    firstRunFailedInSource();
    deployedFactory('team-a');
    s3Mock.on(HeadObjectCommand).rejects(new NotFound({ message: 'NotFound', $metadata: { httpStatusCode: 404 } }));

    const { code, stdout } = await ws.run(['status', 'python', '--json', '--namespace', 'team-a']);

    expect(code).toBe(ExitCode.Ok);
    const [entry] = JSON.parse(stdout);
    expect(entry).toMatchObject({
      pipeline: pipelineName('team-a', 'image', 'python'),
      status: 'waiting-for-upload',
      hint: `dcf push <folder> --namespace team-a uploads its first configuration to s3://${SOURCE_BUCKET}/team-a/images/python.zip`,
      execution: { executionId: 'exec-0', status: 'Failed' },
    });
    expect(entry.note).toBeUndefined();
  });

  test('with the source object present is still a failure', async () => {
    // GIVEN
    firstRunFailedInSource();
    s3Mock.on(HeadObjectCommand).resolves({ ContentLength: 123, VersionId: 'v-1' });

    // WHEN
    const { code, stdout } = await ws.run(['status', 'python']);
    const json = JSON.parse((await ws.run(['status', 'python', '--json'])).stdout);

    // THEN
    expect(code).toBe(ExitCode.Ok);
    expect(stdout).toContain('✖ image python  Failed');
    expect(stdout).toContain('    ✖ Source     Failed: Source: The object with key devcontainers/images/python.zip does not exist');
    expect(stdout).not.toContain('waiting for the first upload');
    expect(json[0]).toMatchObject({ status: 'failed', execution: { status: 'Failed' } });
    expect(json[0].hint).toBeUndefined();
  });

  test.each([
    [
      '403 without a body (what HeadObject gets)',
      new S3ServiceException({ name: '403', $fault: 'client', message: 'UnknownError', $metadata: { httpStatusCode: 403 } }),
    ],
    ['AccessDenied', Object.assign(new Error('Access Denied'), { name: 'AccessDenied' })],
  ])('when HeadObject is denied (%s), still a failure, with a note that the source could not be checked', async (_, denial) => {
    // GIVEN
    firstRunFailedInSource();
    s3Mock.on(HeadObjectCommand).rejects(denial);

    // WHEN
    const { code, stdout } = await ws.run(['status', 'python']);
    const json = JSON.parse((await ws.run(['status', 'python', '--json'])).stdout);

    // THEN
    expect(code).toBe(ExitCode.Ok);
    expect(stdout).toContain('✖ image python  Failed');
    expect(stdout).toContain('    ✖ Source     Failed');
    expect(stdout).toContain(`    note: the source s3://${SOURCE_BUCKET}/devcontainers/images/python.zip could not be checked (access denied`);
    expect(stdout).not.toContain('waiting for the first upload');
    expect(json[0]).toMatchObject({ status: 'failed', note: expect.stringMatching(/could not be checked \(access denied/) });
  });

  test('when the factory cannot be found, still a failure, with a note that says why the source was not checked', async () => {
    firstRunFailedInSource();

    const { code, stdout } = await ws.run(['status', 'python', '--namespace', 'nowhere']);

    expect(code).toBe(ExitCode.Ok);
    expect(stdout).toContain('✖ image python  Failed');
    expect(stdout).toMatch(/note: the source object nowhere\/images\/python.zip could not be checked.*no factory is deployed for namespace 'nowhere'/);
    expect(s3Mock.commandCalls(HeadObjectCommand)).toHaveLength(0);
  });
});

test('--json gives a pipeline that never ran the status never-run', async () => {
  simulatePipeline({ executionId: 'x', executions: [], frames: [{ status: 'InProgress', stages: {} }] });

  const { stdout } = await ws.run(['status', 'python', '--json']);

  expect(JSON.parse(stdout)).toEqual([{ pipeline: pipelineName('devcontainers', 'image', 'python'), kind: 'image', id: 'python', status: 'never-run' }]);
});

test('--json gives every pipeline that ran the status of its latest execution in kebab case', async () => {
  threePipelines();
  simulatePipeline({
    executionId: 'exec-1',
    executions: [{ pipelineExecutionId: 'exec-1', status: 'InProgress', startTime: started }],
    frames: [{ status: 'InProgress', stages: { Source: 'InProgress' } }],
  });

  const { stdout } = await ws.run(['status', '--json']);

  expect(JSON.parse(stdout).map((p: { id: string; status: string }) => [p.id, p.status])).toEqual([
    ['hello', 'in-progress'],
    ['node', 'in-progress'],
    ['python', 'in-progress'],
  ]);
});
