/** `dcf status [id]`: the latest execution of each pipeline of the namespace (or of one), stage by stage. */
import { Command } from 'commander';
import type { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { pipelineName, stackNames, type ArtifactKind } from '@devcontainer-factory/lambdas';
import { DcfError, ExitCode } from '../dcf-error';
import { aws } from '../private/aws-errors';
import { kindOption } from '../private/options';
import type { Style } from '../private/output';
import { executionReport, pipelineState, recentExecutions, type ExecutionReport, type StageReport } from '../private/pipeline-watch';
import { mapLimit } from '../private/concurrency';
import type { App, Session } from '../private/session';

interface StatusOptions {
  readonly kind?: ArtifactKind;
}

interface PipelineStatus {
  readonly pipeline: string;
  readonly kind: ArtifactKind;
  readonly id: string;
  /** The latest execution; absent when the pipeline never ran. */
  readonly execution?: ExecutionReport;
}

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
  return `${mark} ${stage.name.padEnd(10)} ${stage.status === 'NotRun' ? 'not run' : stage.status}${stage.message ? `: ${stage.message}` : ''}`;
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
  const statuses = await mapLimit(targets, 4, async (t): Promise<PipelineStatus> => {
    const [latest] = await recentExecutions(cp, t.pipeline, 1);
    return latest?.pipelineExecutionId ? { ...t, execution: await executionReport(cp, t.pipeline, latest.pipelineExecutionId, latest) } : t;
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
    const head = e
      ? `${(MARK[e.status] ?? (() => '?'))(s)} ${st.kind} ${s.bold(st.id)}  ${e.status}  ${e.startTime ? `started ${e.startTime}` : ''}  ${s.dim(`execution ${e.executionId}`)}`
      : `${s.dim('·')} ${st.kind} ${s.bold(st.id)}  never run`;
    out.print(head.replace(/ {3,}/g, '  ').trimEnd());
    for (const stage of e?.stages ?? []) out.print(`    ${stageLine(stage, s)}`);
  }
  return ExitCode.Ok;
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
  const names = stackNames(namespace);
  const prefixes: [ArtifactKind, string][] = [
    ['image', names.image('')],
    ['feature', names.feature('')],
  ];
  const targets: Target[] = [];
  let nextToken: string | undefined;
  do {
    const page = await aws('listing pipelines', () => cp.send(new ListPipelinesCommand({ nextToken })));
    for (const p of page.pipelines ?? []) {
      for (const [k, prefix] of prefixes) {
        if (p.name?.startsWith(prefix) && (!kind || kind === k)) targets.push({ pipeline: p.name, kind: k, id: p.name.slice(prefix.length) });
      }
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return targets.sort((a, b) => a.kind.localeCompare(b.kind) || a.id.localeCompare(b.id));
}
