/**
 * CodePipeline as the templates declare it: stages in order, actions by run order,
 * variable namespaces and `#{…}` resolution, `BeforeEntry` conditions (the skip when a
 * build is released), input and output artifacts in the artifact bucket (keys as
 * CodePipeline names them: `<first 20 characters of the pipeline>/<first 10 of the
 * artifact>/<random>`). What an action does is its executor's (S3 source, Lambda invoke,
 * CodeBuild); the engine records what each stage and action did, and answers the job API
 * (`PutJobSuccessResult`, `PutJobFailureResult`) that Lambda actions call back through the
 * gateway. It holds the action to CodePipeline's limit of a configuration value
 * ({@link MAX_CONFIGURATION_VALUE_LENGTH} characters) with its variables resolved: a value
 * that a variable makes longer fails the action before it runs, naming the value.
 */
import { randomUUID } from 'node:crypto';

/** An action of a pipeline, resolved from its template. */
export interface ActionDefinition {
  readonly name: string;
  /** `Source`, `Invoke`, `Build`, `Approval`, … */
  readonly category: string;
  /** `S3`, `Lambda`, `CodeBuild`, … */
  readonly provider: string;
  readonly configuration: Readonly<Record<string, unknown>>;
  readonly inputArtifacts: readonly string[];
  readonly outputArtifacts: readonly string[];
  readonly namespace?: string;
  readonly runOrder: number;
  /** The role CodePipeline assumes for the action, when it has its own. */
  readonly roleArn?: string;
}

/** A `VariableCheck` rule of a `BeforeEntry` condition. */
export interface VariableCheck {
  readonly variable: string;
  readonly operator: string;
  readonly value: string;
}

export interface StageDefinition {
  readonly name: string;
  readonly actions: readonly ActionDefinition[];
  /** When a rule does not hold, `result` (SKIP or FAIL) applies to the stage. */
  readonly beforeEntry?: { readonly result: string; readonly rules: readonly VariableCheck[] };
}

export interface PipelineDefinition {
  readonly name: string;
  readonly arn: string;
  readonly roleArn: string;
  readonly artifactBucket: string;
  readonly artifactKey?: string;
  readonly executionMode: string;
  readonly stages: readonly StageDefinition[];
}

/** Where an artifact is stored. */
export interface ArtifactLocation {
  readonly bucket: string;
  readonly key: string;
}

/** What an executor gets. */
export interface ActionContext {
  readonly pipeline: PipelineDefinition;
  readonly stage: StageDefinition;
  readonly action: ActionDefinition;
  readonly execution: PipelineExecution;
  /** `text` with every `#{namespace.variable}` of this execution resolved; an unknown variable stays as written. */
  resolve(text: string): string;
  /** The input artifacts of the action, by name. */
  readonly inputs: ReadonlyMap<string, ArtifactLocation>;
  /** A new key in the artifact bucket for an output artifact, as CodePipeline names them. */
  outputKey(artifact: string): string;
  /** Registers a job for a Lambda action: its result comes back through {@link PipelineEngine.handle}. */
  newJob(): { id: string; result: () => JobResult | undefined };
}

/** What an action did. */
export interface ActionOutcome {
  readonly variables?: Readonly<Record<string, string>>;
  readonly summary?: string;
  readonly outputs?: Readonly<Record<string, ArtifactLocation>>;
}

export type ActionExecutor = (context: ActionContext) => Promise<ActionOutcome>;

/** Thrown by an executor: the action failed, with what CodePipeline would show. */
export class ActionFailedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ActionFailedError';
  }
}

/** A Lambda job's result, as its function reported it. */
export type JobResult =
  | { readonly status: 'Succeeded'; readonly outputVariables: Readonly<Record<string, string>>; readonly summary?: string }
  | { readonly status: 'Failed'; readonly message: string };

export interface ActionRecord {
  readonly stage: string;
  readonly action: string;
  status: 'Succeeded' | 'Failed' | 'Skipped';
  summary?: string;
  /** The output variables the action set. */
  variables?: Readonly<Record<string, string>>;
  ms: number;
}

/** One execution of a pipeline and what each stage and action did. */
export interface PipelineExecution {
  readonly id: string;
  readonly pipeline: string;
  readonly trigger: string;
  status: 'InProgress' | 'Succeeded' | 'Failed';
  readonly stages: { name: string; status: 'Succeeded' | 'Failed' | 'Skipped' }[];
  readonly actions: ActionRecord[];
  readonly variables: Map<string, Map<string, string>>;
  /** The first failure, in words. */
  failure?: string;
  readonly startTime: Date;
  lastUpdateTime: Date;
}

const VARIABLE = /#\{([A-Za-z0-9@\-_]+)\.([A-Za-z0-9@\-_]+)\}/g;

/**
 * The most characters of one value of an action's configuration (`ActionConfigurationValue`
 * of CodePipeline's API: 1,000; the variables reference repeats it for configuration
 * fields that use variables). The engine applies it to the value as the action receives it,
 * with every `#{…}` resolved: a value a variable makes longer fails the action.
 */
export const MAX_CONFIGURATION_VALUE_LENGTH = 1000;

/** The configuration values of an action over {@link MAX_CONFIGURATION_VALUE_LENGTH} once resolved, in words; empty when none is. */
export function configurationLimitProblems(action: ActionDefinition, resolve: (text: string) => string): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(action.configuration)) {
    if (typeof value !== 'string') continue;
    const resolved = resolve(value);
    if (resolved.length > MAX_CONFIGURATION_VALUE_LENGTH) {
      const variables = [...new Set(value.match(VARIABLE) ?? [])];
      problems.push(
        `the configuration value ${key} of action ${action.name} is ${resolved.length} characters once ${variables.join(', ') || 'its variables'} ${variables.length === 1 ? 'is' : 'are'} resolved; CodePipeline allows ${MAX_CONFIGURATION_VALUE_LENGTH}`,
      );
    }
  }
  return problems;
}

/** Runs pipelines with the executors it is given, by action provider. */
export class PipelineEngine {
  readonly executions: PipelineExecution[] = [];
  private readonly jobs = new Map<string, JobResult | undefined>();
  private readonly definitions = new Map<string, PipelineDefinition>();

  constructor(
    private readonly executors: Readonly<Record<string, ActionExecutor>>,
    pipelines: Iterable<PipelineDefinition> = [],
    /** Where CodePipeline's events go (EventBridge's default bus): each change of a pipeline execution's, stage's and action's state. */
    private readonly onEvent: (event: Record<string, unknown>) => void = () => undefined,
  ) {
    for (const p of pipelines) this.definitions.set(p.name, p);
  }

  /** An event as CodePipeline sends it to EventBridge (`aws.codepipeline`), with the pipeline's region and account. */
  private event(pipeline: PipelineDefinition, detailType: string, detail: Record<string, unknown>): void {
    const [, , , region, account] = pipeline.arn.split(':');
    this.onEvent({
      version: '0',
      id: randomUUID(),
      'detail-type': detailType,
      source: 'aws.codepipeline',
      account,
      time: new Date().toISOString(),
      region,
      resources: [pipeline.arn],
      detail: { pipeline: pipeline.name, version: 1, region, ...detail },
    });
  }

  /**
   * The job API of CodePipeline, as the gateway passes it on: a Lambda action reports
   * its job's result here. A job the engine did not start is refused, as CodePipeline does.
   */
  async handle(operation: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (operation !== 'PutJobSuccessResult' && operation !== 'PutJobFailureResult') return this.read(operation, body);
    const id = String(body.jobId ?? '');
    if (!this.jobs.has(id)) throw new Error(`JobNotFoundException: no job ${id}`);
    if (this.jobs.get(id) !== undefined) throw new Error(`InvalidJobStateException: job ${id} already has a result`);
    if (operation === 'PutJobSuccessResult') {
      const details = body.executionDetails as { summary?: string } | undefined;
      this.jobs.set(id, {
        status: 'Succeeded',
        outputVariables: (body.outputVariables as Record<string, string>) ?? {},
        ...(details?.summary && { summary: details.summary }),
      });
    } else {
      const failure = body.failureDetails as { message?: string } | undefined;
      this.jobs.set(id, { status: 'Failed', message: failure?.message ?? '(no message)' });
    }
    return {};
  }

  /** The read side of CodePipeline's API that `dcf status` and `dcf push --wait` use, answered from the executions. */
  private read(operation: string, body: Record<string, unknown>): Record<string, unknown> {
    const name = String(body.pipelineName ?? body.name ?? '');
    const executions = this.executions.filter((e) => e.pipeline === name).reverse();
    const summary = (e: PipelineExecution) => ({
      pipelineExecutionId: e.id,
      status: e.status,
      startTime: e.startTime.getTime() / 1000,
      lastUpdateTime: e.lastUpdateTime.getTime() / 1000,
      sourceRevisions: e.variables.get('Source')?.get('VersionId') ? [{ actionName: 'Source', revisionId: e.variables.get('Source')!.get('VersionId') }] : [],
      trigger: { triggerType: e.trigger === 'CreatePipeline' ? 'CreatePipeline' : 'CloudWatchEvent', triggerDetail: e.trigger },
    });
    const pipeline = () => {
      const p = this.definitions.get(name);
      if (!p) throw new Error(`PipelineNotFoundException: Account '${name}' does not have a pipeline with name '${name}'`);
      return p;
    };
    switch (operation) {
      case 'ListPipelines':
        return { pipelines: [...this.definitions.values()].map((p) => ({ name: p.name, version: 1, pipelineType: 'V2', executionMode: p.executionMode })) };
      case 'ListPipelineExecutions':
        pipeline();
        return { pipelineExecutionSummaries: executions.slice(0, Number(body.maxResults ?? 100)).map(summary) };
      case 'GetPipelineExecution': {
        const e = executions.find((x) => x.id === body.pipelineExecutionId);
        if (!e) throw new Error(`PipelineExecutionNotFoundException: no execution ${String(body.pipelineExecutionId)} of ${name}`);
        return {
          pipelineExecution: {
            pipelineName: name,
            pipelineVersion: 1,
            pipelineExecutionId: e.id,
            status: e.status,
            ...(e.failure && { statusSummary: e.failure }),
            artifactRevisions: summary(e).sourceRevisions.map((r) => ({ name: 'Source', revisionId: r.revisionId })),
          },
        };
      }
      case 'GetPipelineState':
        return {
          pipelineName: name,
          pipelineVersion: 1,
          stageStates: pipeline().stages.map((stage) => {
            const latest = executions.find((e) => e.stages.some((st) => st.name === stage.name));
            const status = latest?.stages.find((st) => st.name === stage.name)?.status;
            return {
              stageName: stage.name,
              ...(latest && { latestExecution: { pipelineExecutionId: latest.id, status } }),
              actionStates: stage.actions.map((a) => {
                const record = latest?.actions.find((r) => r.stage === stage.name && r.action === a.name);
                return {
                  actionName: a.name,
                  ...(record && {
                    latestExecution: {
                      status: record.status,
                      ...(record.status === 'Failed' && { errorDetails: { message: record.summary } }),
                      ...(record.summary && { summary: record.summary }),
                    },
                  }),
                };
              }),
            };
          }),
        };
      case 'ListActionExecutions': {
        const filter = body.filter as { pipelineExecutionId?: string } | undefined;
        pipeline();
        return {
          actionExecutionDetails: executions
            .filter((e) => !filter?.pipelineExecutionId || e.id === filter.pipelineExecutionId)
            .flatMap((e) =>
              e.actions
                .filter((a) => a.status !== 'Skipped')
                .map((a) => ({
                  pipelineExecutionId: e.id,
                  stageName: a.stage,
                  actionName: a.action,
                  status: a.status,
                  output: {
                    executionResult: {
                      ...(a.summary && { externalExecutionSummary: a.summary }),
                      ...(a.status === 'Failed' && { errorDetails: { message: a.summary } }),
                    },
                    ...(a.variables && { outputVariables: a.variables }),
                  },
                })),
            ),
        };
      }
      default:
        throw new Error(`the rehearsal's CodePipeline does not model ${operation}`);
    }
  }

  /** Runs one execution to its end and returns it. */
  async run(pipeline: PipelineDefinition, trigger: string, seed: Readonly<Record<string, Readonly<Record<string, string>>>> = {}): Promise<PipelineExecution> {
    const execution: PipelineExecution = {
      id: randomUUID(),
      pipeline: pipeline.name,
      trigger,
      status: 'InProgress',
      stages: [],
      actions: [],
      variables: new Map(Object.entries(seed).map(([ns, vars]) => [ns, new Map(Object.entries(vars))])),
      startTime: new Date(),
      lastUpdateTime: new Date(),
    };
    this.definitions.set(pipeline.name, pipeline);
    this.executions.push(execution);
    const executionEvent = (state: string) =>
      this.event(pipeline, 'CodePipeline Pipeline Execution State Change', {
        'execution-id': execution.id,
        state,
        'execution-trigger': { 'trigger-type': trigger === 'CreatePipeline' ? 'CreatePipeline' : 'CloudWatchEvent', 'trigger-detail': trigger },
      });
    const stageEvent = (stage: string, state: string) =>
      this.event(pipeline, 'CodePipeline Stage Execution State Change', { 'execution-id': execution.id, stage, state });
    const actionEvent = (stage: StageDefinition, action: ActionDefinition, state: string, summary?: string) =>
      this.event(pipeline, 'CodePipeline Action Execution State Change', {
        'execution-id': execution.id,
        stage: stage.name,
        action: action.name,
        state,
        type: { owner: 'AWS', provider: action.provider, category: action.category, version: '1' },
        ...(state === 'SUCCEEDED' || state === 'FAILED'
          ? {
              'execution-result': {
                ...(summary !== undefined && { 'external-execution-summary': summary }),
                ...(state === 'FAILED' && { 'error-code': 'JobFailed' }),
              },
            }
          : {}),
      });
    executionEvent('STARTED');
    const finish = (status: 'Succeeded' | 'Failed') => {
      execution.status = status;
      executionEvent(status === 'Succeeded' ? 'SUCCEEDED' : 'FAILED');
      return execution;
    };
    const artifacts = new Map<string, ArtifactLocation>();
    const resolve = (text: string) => text.replace(VARIABLE, (all, ns: string, name: string) => execution.variables.get(ns)?.get(name) ?? all);
    for (const stage of pipeline.stages) {
      if (stage.beforeEntry && !stage.beforeEntry.rules.every((rule) => holds(rule, resolve))) {
        if (stage.beforeEntry.result === 'SKIP') {
          execution.stages.push({ name: stage.name, status: 'Skipped' });
          for (const action of stage.actions) execution.actions.push({ stage: stage.name, action: action.name, status: 'Skipped', ms: 0 });
          continue;
        }
        execution.stages.push({ name: stage.name, status: 'Failed' });
        execution.failure = `${stage.name}: its before-entry condition failed`;
        stageEvent(stage.name, 'FAILED');
        return finish('Failed');
      }
      stageEvent(stage.name, 'STARTED');
      const orders = [...new Set(stage.actions.map((a) => a.runOrder))].sort((a, b) => a - b);
      let failed = false;
      for (const order of orders) {
        // Actions of one run order run in parallel, as CodePipeline runs them.
        const results = await Promise.all(
          stage.actions
            .filter((a) => a.runOrder === order)
            .map(async (action) => {
              const started = Date.now();
              const record: ActionRecord = { stage: stage.name, action: action.name, status: 'Succeeded', ms: 0 };
              execution.actions.push(record);
              actionEvent(stage, action, 'STARTED');
              const executor = this.executors[`${action.category}/${action.provider}`] ?? this.executors[action.provider];
              try {
                if (!executor) throw new ActionFailedError(`the rehearsal has no executor for ${action.category}/${action.provider} actions`);
                const overLimit = configurationLimitProblems(action, resolve);
                if (overLimit.length) throw new ActionFailedError(overLimit.join('; '));
                const inputs = new Map(action.inputArtifacts.map((name) => [name, artifacts.get(name)!] as const).filter(([, l]) => l !== undefined));
                const outcome = await executor({
                  pipeline,
                  stage,
                  action,
                  execution,
                  resolve,
                  inputs,
                  outputKey: (artifact) => `${pipeline.name.slice(0, 20)}/${artifact.slice(0, 10)}/${randomUUID().slice(0, 7)}`,
                  newJob: () => {
                    const id = randomUUID();
                    this.jobs.set(id, undefined);
                    return { id, result: () => this.jobs.get(id) };
                  },
                });
                for (const [name, location] of Object.entries(outcome.outputs ?? {})) artifacts.set(name, location);
                if (action.namespace) {
                  const vars = execution.variables.get(action.namespace) ?? new Map<string, string>();
                  for (const [k, v] of Object.entries(outcome.variables ?? {})) vars.set(k, v);
                  execution.variables.set(action.namespace, vars);
                }
                record.summary = outcome.summary;
                if (outcome.variables) record.variables = outcome.variables;
                actionEvent(stage, action, 'SUCCEEDED', outcome.summary);
                return true;
              } catch (error) {
                record.status = 'Failed';
                record.summary = error instanceof Error ? error.message : String(error);
                execution.failure ??= `${stage.name}.${action.name}: ${record.summary}`;
                actionEvent(stage, action, 'FAILED', record.summary);
                return false;
              } finally {
                record.ms = Date.now() - started;
                execution.lastUpdateTime = new Date();
              }
            }),
        );
        if (results.includes(false)) {
          failed = true;
          break;
        }
      }
      execution.stages.push({ name: stage.name, status: failed ? 'Failed' : 'Succeeded' });
      stageEvent(stage.name, failed ? 'FAILED' : 'SUCCEEDED');
      if (failed) return finish('Failed');
    }
    return finish('Succeeded');
  }
}

/** Whether a `VariableCheck` rule holds, with its variable resolved. */
function holds(rule: VariableCheck, resolve: (text: string) => string): boolean {
  const value = resolve(rule.variable);
  switch (rule.operator) {
    case 'EQ':
      return value === rule.value;
    case 'NE':
      return value !== rule.value;
    case 'CONTAINS':
      return value.includes(rule.value);
    case 'MATCHES':
      return new RegExp(rule.value).test(value);
    default:
      throw new ActionFailedError(`the rehearsal does not model the VariableCheck operator ${rule.operator}`);
  }
}
