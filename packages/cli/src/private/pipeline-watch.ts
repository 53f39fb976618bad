/**
 * Reads CodePipeline executions stage by stage, finds the execution an upload
 * started, and follows it to the end. Shared by `dcf status` and `dcf push --wait`.
 */
import type { ActionExecutionDetail, CodePipelineClient, PipelineExecutionSummary, StageState } from '@aws-sdk/client-codepipeline';
import { PREPARE_VARIABLES } from '@devcontainer-factory/core';
import type { Clock } from '../cli-environment';
import { DcfError, ExitCode } from '../dcf-error';
import { aws, awsError, errorName } from './aws-errors';
import { awsListingLimit } from './page-limit';

/** The output variable in which Prepare says why it builds (`PREPARE_VARIABLES.reason`). */
const REASON_VARIABLE = PREPARE_VARIABLES.reason;

/** CodePipeline's stage statuses, plus `Pending` (not reached yet) and `NotRun` (the execution ended before it). */
export type StageStatus = 'InProgress' | 'Succeeded' | 'Failed' | 'Stopped' | 'Stopping' | 'Cancelled' | 'Skipped' | 'Pending' | 'NotRun';

export interface StageReport {
  readonly name: string;
  readonly status: StageStatus;
  /** Why it failed, from the failing action, when known. */
  readonly message?: string;
  /** What a succeeded action said of its run: Prepare's `Reason` (why the image is built, or that nothing moved). */
  readonly note?: string;
}

export interface ExecutionReport {
  readonly pipeline: string;
  readonly executionId: string;
  /** InProgress, Stopped, Stopping, Succeeded, Superseded, Failed, Cancelled. */
  readonly status: string;
  readonly statusSummary?: string;
  /** S3 object version (or other revision) the execution runs on. */
  readonly sourceRevision?: string;
  readonly startTime?: string;
  readonly lastUpdateTime?: string;
  readonly stages: readonly StageReport[];
}

const TERMINAL = new Set(['Succeeded', 'Failed', 'Stopped', 'Superseded', 'Cancelled']);

export function isTerminal(status: string): boolean {
  return TERMINAL.has(status);
}

/** The stages of a pipeline in order (from its state); undefined when the pipeline does not exist. */
export async function pipelineState(cp: CodePipelineClient, pipeline: string): Promise<StageState[] | undefined> {
  const { GetPipelineStateCommand } = await import('@aws-sdk/client-codepipeline');
  try {
    return (await cp.send(new GetPipelineStateCommand({ name: pipeline }))).stageStates ?? [];
  } catch (e) {
    if (errorName(e) === 'PipelineNotFoundException') return undefined;
    throw awsError(e, `reading the state of pipeline ${pipeline}`);
  }
}

async function actionExecutions(cp: CodePipelineClient, pipeline: string, executionId: string): Promise<ActionExecutionDetail[]> {
  const { ListActionExecutionsCommand } = await import('@aws-sdk/client-codepipeline');
  const details: ActionExecutionDetail[] = [];
  const pages = awsListingLimit(`listing the actions of execution ${executionId}`);
  let nextToken: string | undefined;
  do {
    pages.visit(nextToken ?? '');
    const page = await aws(`listing the actions of execution ${executionId}`, () =>
      cp.send(new ListActionExecutionsCommand({ pipelineName: pipeline, filter: { pipelineExecutionId: executionId }, nextToken })),
    );
    details.push(...(page.actionExecutionDetails ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return details;
}

function stageReport(stage: StageState, executionId: string, actions: readonly ActionExecutionDetail[], executionEnded: boolean): StageReport {
  const name = stage.stageName ?? '?';
  const mine = actions.filter((a) => a.stageName === name);
  const failedAction = mine.find((a) => a.status === 'Failed');
  const actionMessage = failedAction
    ? `${failedAction.actionName}: ${failedAction.output?.executionResult?.errorDetails?.message ?? failedAction.output?.executionResult?.externalExecutionSummary ?? 'failed'}`
    : undefined;
  // Prepare's `Reason` output variable: why this build (what moved), or that nothing did.
  const note = mine.map((a) => a.output?.outputVariables?.[REASON_VARIABLE]).find(Boolean);
  if (stage.latestExecution?.pipelineExecutionId === executionId && stage.latestExecution.status) {
    const status = stage.latestExecution.status as StageStatus;
    const stateMessage = stage.actionStates?.map((a) => a.latestExecution?.errorDetails?.message).find(Boolean);
    return {
      name,
      status,
      ...(status === 'Failed' && (actionMessage ?? stateMessage) ? { message: actionMessage ?? stateMessage } : {}),
      ...(note ? { note } : {}),
    };
  }
  if (mine.length === 0) return { name, status: executionEnded ? 'NotRun' : 'Pending' };
  if (failedAction) return { name, status: 'Failed', message: actionMessage };
  if (mine.some((a) => a.status === 'InProgress')) return { name, status: 'InProgress' };
  if (mine.some((a) => a.status === 'Abandoned')) return { name, status: 'Stopped' };
  const declared = stage.actionStates?.length ?? 0;
  return { name, status: mine.length >= declared ? 'Succeeded' : executionEnded ? 'Stopped' : 'InProgress' };
}

/** One execution, stage by stage. */
export async function executionReport(
  cp: CodePipelineClient,
  pipeline: string,
  executionId: string,
  summary?: PipelineExecutionSummary,
): Promise<ExecutionReport> {
  const { GetPipelineExecutionCommand } = await import('@aws-sdk/client-codepipeline');
  const [execution, actions, stages] = await Promise.all([
    aws(`reading execution ${executionId} of pipeline ${pipeline}`, () =>
      cp.send(new GetPipelineExecutionCommand({ pipelineName: pipeline, pipelineExecutionId: executionId })),
    ),
    actionExecutions(cp, pipeline, executionId),
    pipelineState(cp, pipeline),
  ]);
  const status = execution.pipelineExecution?.status ?? summary?.status ?? 'Unknown';
  const revision = execution.pipelineExecution?.artifactRevisions?.[0]?.revisionId ?? summary?.sourceRevisions?.[0]?.revisionId;
  return {
    pipeline,
    executionId,
    status,
    ...(execution.pipelineExecution?.statusSummary ? { statusSummary: execution.pipelineExecution.statusSummary } : {}),
    ...(revision ? { sourceRevision: revision } : {}),
    ...(summary?.startTime ? { startTime: summary.startTime.toISOString() } : {}),
    ...(summary?.lastUpdateTime ? { lastUpdateTime: summary.lastUpdateTime.toISOString() } : {}),
    stages: (stages ?? []).map((s) => stageReport(s, executionId, actions, isTerminal(status))),
  };
}

/** The newest executions of a pipeline, newest first. */
export async function recentExecutions(cp: CodePipelineClient, pipeline: string, maxResults: number): Promise<PipelineExecutionSummary[]> {
  const { ListPipelineExecutionsCommand } = await import('@aws-sdk/client-codepipeline');
  const page = await aws(`listing the executions of pipeline ${pipeline}`, () =>
    cp.send(new ListPipelineExecutionsCommand({ pipelineName: pipeline, maxResults })),
  );
  return page.pipelineExecutionSummaries ?? [];
}

export interface WatchTiming {
  readonly clock: Clock;
  readonly pollIntervalMs: number;
  /** Give up at this time (ms since the epoch). */
  readonly deadline: number;
}

/** How far the pipeline's clock may be ahead of ours when matching an execution by its start time. */
const CLOCK_SKEW_MS = 30_000;

/**
 * The execution an upload started: the one whose source revision is the
 * uploaded object's version, or (for a bucket without versions) the first one
 * that started after the upload.
 */
export async function findExecution(
  cp: CodePipelineClient,
  pipeline: string,
  upload: { readonly versionId?: string; readonly uploadedAt: number },
  timing: WatchTiming,
  whatIfNone: string,
): Promise<PipelineExecutionSummary> {
  for (;;) {
    const executions = await recentExecutions(cp, pipeline, 20);
    const match = upload.versionId
      ? executions.find((e) => e.sourceRevisions?.some((r) => r.revisionId === upload.versionId))
      : executions
          .filter((e) => e.startTime && e.startTime.getTime() >= upload.uploadedAt - CLOCK_SKEW_MS)
          .sort((a, b) => a.startTime!.getTime() - b.startTime!.getTime())[0];
    if (match?.pipelineExecutionId) return match;
    if (timing.clock.now() >= timing.deadline) throw new DcfError(whatIfNone, ExitCode.Timeout);
    await timing.clock.sleep(timing.pollIntervalMs);
  }
}

/**
 * Follows an execution until it ends, calling `onStage` each time a stage changes status.
 * @returns the final report (whatever its status)
 */
export async function followExecution(
  cp: CodePipelineClient,
  pipeline: string,
  summary: PipelineExecutionSummary,
  timing: WatchTiming,
  onStage: (stage: StageReport) => void,
  whatIfTimeout: string,
): Promise<ExecutionReport> {
  const seen = new Map<string, StageStatus>();
  for (;;) {
    const report = await executionReport(cp, pipeline, summary.pipelineExecutionId!, summary);
    for (const stage of report.stages) {
      if (seen.get(stage.name) !== stage.status && stage.status !== 'Pending') onStage(stage);
      seen.set(stage.name, stage.status);
    }
    if (isTerminal(report.status)) return report;
    if (timing.clock.now() >= timing.deadline) throw new DcfError(whatIfTimeout, ExitCode.Timeout);
    await timing.clock.sleep(timing.pollIntervalMs);
  }
}
