/**
 * A CodePipeline execution that moves on one frame each time its status is
 * read, served through the aws-sdk-client-mock of CodePipelineClient.
 */
import {
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  ListActionExecutionsCommand,
  ListPipelineExecutionsCommand,
  type PipelineExecutionSummary,
} from '@aws-sdk/client-codepipeline';
import { STAGES, codePipelineMock } from './factory-mocks';

export interface Frame {
  /** Status of the execution. */
  readonly status: 'InProgress' | 'Succeeded' | 'Failed' | 'Stopped';
  /** Status of each stage reached (others are not reached yet). */
  readonly stages: Readonly<Record<string, 'InProgress' | 'Succeeded' | 'Failed' | 'Skipped'>>;
  /** Summary of the failing action, for a Failed stage. */
  readonly failure?: string;
  /** The `Reason` output variable of a succeeded Prepare (why the image is built, or that nothing moved). */
  readonly reason?: string;
}

export interface Simulation {
  /** How many times the execution's status was read. */
  readonly reads: number;
}

/**
 * Serves `executions` from ListPipelineExecutions (after `notStartedPolls` empty answers),
 * and plays `frames` for the execution `executionId`.
 */
export function simulatePipeline(options: {
  readonly executionId: string;
  readonly executions: PipelineExecutionSummary[];
  readonly frames: readonly Frame[];
  readonly notStartedPolls?: number;
}): Simulation {
  const state = { reads: 0, listings: 0 };
  const frame = () => options.frames[Math.min(Math.max(state.reads - 1, 0), options.frames.length - 1)];

  codePipelineMock.on(ListPipelineExecutionsCommand).callsFake((input: { maxResults?: number }) => {
    state.listings++;
    const visible =
      state.listings <= (options.notStartedPolls ?? 0) ? options.executions.filter((e) => e.pipelineExecutionId !== options.executionId) : options.executions;
    return { pipelineExecutionSummaries: visible.slice(0, input.maxResults ?? 100) };
  });
  codePipelineMock.on(GetPipelineExecutionCommand).callsFake((input: { pipelineName: string; pipelineExecutionId: string }) => {
    state.reads++;
    return { pipelineExecution: { pipelineName: input.pipelineName, pipelineExecutionId: input.pipelineExecutionId, status: frame().status } };
  });
  codePipelineMock.on(GetPipelineStateCommand).callsFake(() => ({
    stageStates: STAGES.map((stageName) => {
      const status = frame().stages[stageName];
      return {
        stageName,
        // Stages not reached yet still show the previous execution.
        latestExecution: status ? { pipelineExecutionId: options.executionId, status } : { pipelineExecutionId: 'previous', status: 'Succeeded' },
        actionStates: [
          {
            actionName: stageName,
            latestExecution: status === 'Failed' ? { status: 'Failed', errorDetails: { code: 'JobFailed', message: frame().failure } } : {},
          },
        ],
      };
    }),
  }));
  codePipelineMock.on(ListActionExecutionsCommand).callsFake(() => ({
    actionExecutionDetails: Object.entries(frame().stages)
      .filter(([, status]) => status !== 'Skipped')
      .map(([stageName, status]) => ({
        pipelineExecutionId: options.executionId,
        stageName,
        actionName: stageName,
        status,
        ...(status === 'Failed' ? { output: { executionResult: { externalExecutionSummary: frame().failure } } } : {}),
        ...(status === 'Succeeded' && stageName === 'Prepare' && frame().reason ? { output: { outputVariables: { Reason: frame().reason } } } : {}),
      })),
  }));
  return state;
}

/** The frames of an image pipeline run that goes through every stage. */
export function successfulRun(): Frame[] {
  const frames: Frame[] = [];
  const stages: Record<string, 'InProgress' | 'Succeeded'> = {};
  for (const stage of STAGES) {
    frames.push({ status: 'InProgress', stages: { ...stages, [stage]: 'InProgress' } });
    stages[stage] = 'Succeeded';
  }
  frames.push({ status: 'Succeeded', stages: { ...stages } });
  return frames;
}
