/** `dcf status [id]`: the latest execution of each pipeline, stage by stage. */
import { GetPipelineStateCommand, ListPipelinesCommand } from '@aws-sdk/client-codepipeline';
import { ExitCode } from '../src';
import { codePipelineMock, resetMocks } from './support/factory-mocks';
import { Workspace } from './support/harness';
import { simulatePipeline } from './support/pipeline-simulator';

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
  resetMocks();
});
afterEach(() => ws.cleanup());

const started = new Date('2025-01-01T11:00:00Z');

function threePipelines(): void {
  codePipelineMock.on(ListPipelinesCommand).resolvesOnce({ pipelines: [{ name: 'devcontainers-image-python' }, { name: 'other-image-go' }], nextToken: 'page-2' }).resolves({
    pipelines: [{ name: 'devcontainers-feature-hello' }, { name: 'devcontainers-image-node' }],
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
      pipeline: 'devcontainers-image-python',
      kind: 'image',
      id: 'python',
      execution: {
        pipeline: 'devcontainers-image-python',
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
});

test('finds a feature pipeline when there is no image of that id, and says when it never ran', async () => {
  simulatePipeline({ executionId: 'x', executions: [], frames: [{ status: 'InProgress', stages: {} }] });
  codePipelineMock.on(GetPipelineStateCommand, { name: 'devcontainers-image-hello' }).rejects(Object.assign(new Error('no'), { name: 'PipelineNotFoundException' }));

  const { code, stdout } = await ws.run(['status', 'hello']);

  expect(code).toBe(ExitCode.Ok);
  expect(stdout).toBe('· feature hello  never run\n');
});

test('an id without a pipeline is an error that names what was looked for', async () => {
  codePipelineMock.on(GetPipelineStateCommand).rejects(Object.assign(new Error('no'), { name: 'PipelineNotFoundException' }));

  const { code, stderr } = await ws.run(['status', 'ruby', '--namespace', 'team-a']);

  expect(code).toBe(ExitCode.Aws);
  expect(stderr).toContain(
    "error: no pipeline for image or feature 'ruby' in namespace 'team-a' (looked for team-a-image-ruby, team-a-feature-ruby): check the id and --namespace, or add it to the catalog and deploy",
  );
});

test('an empty namespace says how to add pipelines', async () => {
  codePipelineMock.on(ListPipelinesCommand).resolves({ pipelines: [{ name: 'other-image-go' }] });

  const { code, stdout } = await ws.run(['status']);

  expect(code).toBe(ExitCode.Ok);
  expect(stdout).toContain("no pipelines in namespace 'devcontainers': add images or features to the catalog and deploy");
});
