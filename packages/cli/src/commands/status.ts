/** `dcf status [id]`: the latest execution of each pipeline of the namespace (or of one), stage by stage. */
import { Command } from 'commander';
import type { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { type ArtifactKind, DEFAULT_NAMESPACE, mapLimit, parsePipelineName, pipelineName, sourceKey } from '@devcontainer-factory/core';
import { DcfError, ExitCode } from '../dcf-error';
import { aws, errorName, httpStatus } from '../private/aws-errors';
import { findFactory, type FactoryLocation } from '../private/factory';
import { kindOption } from '../private/options';
import type { Style } from '../private/output';
import { executionReport, pipelineState, recentExecutions, type ExecutionReport, type StageReport } from '../private/pipeline-watch';
import type { App, Session } from '../private/session';

interface StatusOptions {
  readonly kind?: ArtifactKind;
}

/**
 * What `dcf status` makes of a pipeline: its latest execution's CodePipeline status
 * in kebab case (`in-progress`, `succeeded`, `failed`, …), `never-run`, or
 * `waiting-for-upload` when the latest execution failed in Source because nothing
 * was uploaded yet (a new pipeline runs once on creation, before any upload).
 */
type PipelineStatusValue = 'never-run' | 'waiting-for-upload' | string;

interface PipelineStatus {
  readonly pipeline: string;
  readonly kind: ArtifactKind;
  readonly id: string;
  readonly status: PipelineStatusValue;
  /** The latest execution; absent when the pipeline never ran. */
  readonly execution?: ExecutionReport;
  /** What to do next, e.g. the push that uploads the first configuration. */
  readonly hint?: string;
  /** Why dcf's reading may be incomplete, e.g. that the source object could not be checked. */
  readonly note?: string;
}

/** The source object whose absence turns a failed Source into `waiting-for-upload`. */
type SourceCheck = { readonly found: boolean; readonly bucket: string; readonly key: string } | { readonly unknown: string };

const MARK: Record<string, (s: Style) => string> = {
  Succeeded: (s) => s.green('✔'),
  Failed: (s) => s.red('✖'),
  Stopped: (s) => s.red('■'),
  Stopping: (s) => s.yellow('■'),
  Cancelled: (s) => s.red('■'),
  Superseded: (s) => s.dim('■'),
  InProgress: (s) => s.cyan('…'),
  Skipped: (s) => s.dim('↷'),
  NotRun: (s) => s.dim('·'),
  Pending: (s) => s.dim('·'),
};

/** `✔ Build  Succeeded`, for status and push --wait. */
export function stageLine(stage: StageReport, s: Style): string {
  const mark = (MARK[stage.status] ?? ((x: Style) => x.dim('?')))(s);
  return `${mark} ${stage.name.padEnd(10)} ${stage.status === 'NotRun' ? 'not run' : stage.status}${stage.message ? `: ${stage.message}` : ''}${stage.note ? ` (${stage.note})` : ''}`;
}

export function statusCommand(app: App): Command {
  return new Command('status')
    .summary('show the latest pipeline execution of each image and feature, stage by stage')
    .description('Show the latest execution of every pipeline of the namespace, or of the pipeline of one image or feature, stage by stage.')
    .argument('[id]', 'image or feature id (default: all)')
    .addOption(kindOption())
    .addHelpText('after', '\nExamples:\n  $ dcf status\n  $ dcf status python\n  $ dcf status hello --kind feature --json\n')
    .action(app.action(async (session, id: string | undefined, options: StatusOptions) => status(session, id, options)));
}

async function status(session: Session, id: string | undefined, options: StatusOptions): Promise<number> {
  const namespace = session.options.namespace;
  const cp = await session.aws.codePipeline();
  const targets = id ? await onePipeline(cp, namespace, id, options.kind) : await allPipelines(cp, namespace, options.kind);
  const sources = sourceChecker(session);
  const statuses = await mapLimit(targets, 4, async (t): Promise<PipelineStatus> => {
    const [latest] = await recentExecutions(cp, t.pipeline, 1);
    if (!latest?.pipelineExecutionId) return { ...t, status: 'never-run' };
    const execution = await executionReport(cp, t.pipeline, latest.pipelineExecutionId, latest);
    const seen = { ...t, status: kebab(execution.status), execution };
    if (!failedInSource(execution)) return seen;
    const check = await sources(t);
    if ('found' in check) {
      return check.found
        ? seen
        : {
            ...seen,
            status: 'waiting-for-upload',
            hint: `dcf push <folder>${namespaceOption(namespace)} uploads its first configuration to s3://${check.bucket}/${check.key}`,
          };
    }
    return { ...seen, note: check.unknown };
  });

  const { out } = session;
  if (out.json) {
    out.data(statuses);
    return ExitCode.Ok;
  }
  if (statuses.length === 0) {
    out.print(`no pipelines in namespace '${namespace}': add images or features to the catalog and deploy (nx deploy factory -c namespace=${namespace})`);
    return ExitCode.Ok;
  }
  const s = out.style;
  for (const st of statuses) {
    const e = st.execution;
    if (st.status === 'waiting-for-upload') {
      out.print(`${s.dim('◌')} ${st.kind} ${s.bold(st.id)}  waiting for the first upload  ${s.dim(`execution ${e?.executionId}`)}`);
      out.print(`    ${s.dim('hint:')} ${st.hint}`);
      continue;
    }
    const head = e
      ? `${(MARK[e.status] ?? (() => '?'))(s)} ${st.kind} ${s.bold(st.id)}  ${e.status}  ${e.startTime ? `started ${e.startTime}` : ''}  ${s.dim(`execution ${e.executionId}`)}`
      : `${s.dim('·')} ${st.kind} ${s.bold(st.id)}  never run`;
    out.print(head.replace(/ {3,}/g, '  ').trimEnd());
    for (const stage of e?.stages ?? []) out.print(`    ${stageLine(stage, s)}`);
    if (st.note) out.print(`    ${s.yellow('note:')} ${st.note}`);
  }
  return ExitCode.Ok;
}

/** `InProgress` → `in-progress`. */
function kebab(status: string): string {
  return status.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

function namespaceOption(namespace: string): string {
  return namespace === DEFAULT_NAMESPACE ? '' : ` --namespace ${namespace}`;
}

/** The execution failed, and its first stage (the Source stage, where CodePipeline puts source actions) is where. */
function failedInSource(execution: ExecutionReport): boolean {
  return execution.status === 'Failed' && execution.stages[0]?.status === 'Failed';
}

/**
 * Checks with S3 HeadObject whether a pipeline's source object exists in the
 * namespace's source bucket (found through the warehouse's SSM parameters once).
 * 404 means not uploaded yet; a denial (S3 also answers 403 for a missing object
 * when the caller may not list the bucket) or any other failure leaves it unknown.
 */
function sourceChecker(session: Session): (t: Target) => Promise<SourceCheck> {
  const namespace = session.options.namespace;
  let factory: Promise<FactoryLocation> | undefined;
  return async (t) => {
    const key = sourceKey(namespace, t.kind, t.id);
    let bucket: string;
    try {
      bucket = (await (factory ??= findFactory(session.aws, namespace, undefined, session.options))).sourceBucket;
    } catch (e) {
      return {
        unknown: `the source object ${key} could not be checked, so this may only be the pipeline's first run before any upload: ${e instanceof Error ? e.message : String(e)}`,
      };
    }
    const { HeadObjectCommand } = await import('@aws-sdk/client-s3');
    const s3 = await session.aws.s3();
    try {
      await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { found: true, bucket, key };
    } catch (e) {
      const name = errorName(e);
      if (name === 'NotFound' || name === 'NoSuchKey' || httpStatus(e) === 404) return { found: false, bucket, key };
      const denied = /AccessDenied|Forbidden/.test(name) || httpStatus(e) === 403;
      return {
        unknown: denied
          ? `the source s3://${bucket}/${key} could not be checked (access denied to s3:GetObject, or the object is missing and s3:ListBucket is not allowed): if nothing was uploaded yet, this is the pipeline's first run and "dcf push <folder>${namespaceOption(namespace)}" starts it`
          : `the source s3://${bucket}/${key} could not be checked (${name}): if nothing was uploaded yet, this is the pipeline's first run`,
      };
    }
  };
}

interface Target {
  readonly pipeline: string;
  readonly kind: ArtifactKind;
  readonly id: string;
}

async function onePipeline(cp: CodePipelineClient, namespace: string, id: string, kind: ArtifactKind | undefined): Promise<Target[]> {
  const kinds: ArtifactKind[] = kind ? [kind] : ['image', 'feature'];
  for (const k of kinds) {
    const pipeline = pipelineName(namespace, k, id);
    if (await pipelineState(cp, pipeline)) return [{ pipeline, kind: k, id }];
  }
  throw new DcfError(
    `no pipeline for ${kind ?? 'image or feature'} '${id}' in namespace '${namespace}' (looked for ${kinds.map((k) => pipelineName(namespace, k, id)).join(', ')}): ` +
      `check the id and --namespace, or add it to the catalog and deploy (nx deploy factory -c namespace=${namespace})`,
    ExitCode.Aws,
  );
}

async function allPipelines(cp: CodePipelineClient, namespace: string, kind: ArtifactKind | undefined): Promise<Target[]> {
  const { ListPipelinesCommand } = await import('@aws-sdk/client-codepipeline');
  const targets: Target[] = [];
  let nextToken: string | undefined;
  do {
    const page = await aws('listing pipelines', () => cp.send(new ListPipelinesCommand({ nextToken })));
    for (const { name } of page.pipelines ?? []) {
      const parsed = name === undefined ? undefined : parsePipelineName(namespace, name);
      if (parsed && name && (!kind || kind === parsed.kind)) targets.push({ pipeline: name, ...parsed });
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return targets.sort((a, b) => a.kind.localeCompare(b.kind) || a.id.localeCompare(b.id));
}
