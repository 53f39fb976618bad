/**
 * `dcf push <dir>`: validate, pack, upload to `<ns>/images/<id>.zip` (or
 * features), then say what happens next; with `--wait`, follow the pipeline
 * execution the upload started, stage by stage.
 */
import { createHash } from 'node:crypto';
import { Command, Option } from 'commander';
import {
  FEATURE_METADATA_FILE,
  factoryCustomization,
  formatSize,
  parseJsonc,
  parseSemver,
  pipelineName,
  repositoryName,
  sourceKey,
  writeZip,
  DEVCONTAINER_JSON_PATHS,
  type ArtifactKind,
} from '@devcontainer-factory/core';
import { DcfError, ExitCode } from '../dcf-error';
import { aws } from '../private/aws-errors';
import { loadConfiguration, reportProblems, type LoadedConfiguration } from '../private/configuration';
import { assertSourceBucket, findFactory, type FactoryLocation } from '../private/factory';
import { idOption, kindOption, maxSizeOption, parseMinutes } from '../private/options';
import { formatDuration } from '../private/output';
import { findExecution, followExecution, pipelineState, type ExecutionReport, type StageReport } from '../private/pipeline-watch';
import { ProgressBar } from '../private/progress-bar';
import type { App, Session } from '../private/session';
import { stageLine } from './status';

interface PushOptions {
  readonly kind?: ArtifactKind;
  readonly id?: string;
  readonly maxSize?: number;
  readonly wait?: boolean;
  /** Minutes. */
  readonly timeout: number;
}

/**
 * What a denied push says: the factory takes configurations only from the principals
 * granted push, so it names how a platform team grants it.
 */
export const PUSH_DENIED_ADVICE =
  "the factory takes configurations only from the roles and users granted push: ask the platform team to add your role's ARN (arn:aws:iam::<account>:role/<name>, not the session's) to its pushers " +
  '(nx deploy factory -c pushers=…,<role ARN>; in CDK, warehouse.grantPushConfigurations(role))';

/** How long `--wait` waits for the upload to start an execution before it says the trigger is broken. */
const START_TIMEOUT_MS = 5 * 60_000;

export function pushCommand(app: App): Command {
  return new Command('push')
    .summary('validate, pack and upload a configuration to the factory')
    .description(
      "Validate and pack a configuration, then upload it to the factory's source bucket as <namespace>/images/<id>.zip (or features/<id>.zip), " +
        'which starts its pipeline. Bad input never uploads. With --wait, follow the pipeline execution the upload started, stage by stage; ' +
        'the exit code is 0 only when it succeeded.',
    )
    .argument('<dir>', 'folder that holds the configuration')
    .addOption(idOption())
    .addOption(kindOption())
    .addOption(maxSizeOption())
    .option('--wait', 'follow the pipeline execution until it ends')
    .addOption(new Option('--timeout <minutes>', 'with --wait: give up after this many minutes').default(60).argParser(parseMinutes))
    .addHelpText(
      'after',
      '\nExamples:\n  $ dcf push ./python\n  $ dcf push ./python --wait\n  $ dcf push ./hello-feature --id hello --kind feature\n  $ AWS_PROFILE=platform dcf push ./python --namespace team-a --json\n',
    )
    .action(app.action(async (session, dir: string, options: PushOptions) => push(session, dir, options)));
}

async function push(session: Session, dir: string, options: PushOptions): Promise<number> {
  const { out, env } = session;
  const namespace = session.options.namespace;
  const config = await loadConfiguration(session.path(dir), dir, options);
  if (config.problems.length > 0) return reportProblems(out, config, 'nothing was uploaded', 'stderr');
  const zip = writeZip(config.content);
  const sha256 = createHash('sha256').update(zip).digest('hex');

  // Everything that can stop the push is checked before the first write.
  const factory = await findFactory(session.aws, namespace, PUSH_DENIED_ADVICE, session.options);
  await assertSourceBucket(session.aws, factory, PUSH_DENIED_ADVICE);
  const pipeline = pipelineName(namespace, config.kind, config.id);
  const noPipeline =
    `no pipeline ${pipeline} for ${config.kind} '${config.id}' in namespace '${namespace}': add '${config.id}' to the catalog ` +
    `and deploy it (nx deploy factory -c namespace=${namespace} -c ${config.kind}s=…,${config.id})`;
  const cp = await session.aws.codePipeline();
  let pipelineExists: boolean | undefined;
  if (options.wait) {
    pipelineExists = (await pipelineState(cp, pipeline)) !== undefined;
    if (!pipelineExists) throw new DcfError(noPipeline, ExitCode.Aws);
  } else {
    // Without --wait a missing pipeline is only worth a warning, and a role that may not read pipelines may still push.
    pipelineExists = await pipelineState(cp, pipeline).then(
      (stages) => stages !== undefined,
      () => undefined,
    );
  }

  const key = sourceKey(namespace, config.kind, config.id);
  const uploadedAt = env.clock.now();
  const uploaded = await upload(session, factory, key, zip, sha256);
  const pull = pullReference(config, factory);
  const summary = {
    kind: config.kind,
    id: config.id,
    namespace,
    bucket: factory.sourceBucket,
    key,
    ...(uploaded.versionId ? { versionId: uploaded.versionId } : {}),
    ...(uploaded.etag ? { etag: uploaded.etag } : {}),
    bytes: zip.length,
    sha256,
    pipeline,
    pull,
  };
  const s = out.style;
  if (!out.json) {
    out.print(
      `${s.green('✔')} uploaded ${config.kind} ${s.bold(config.id)} (${config.content.files.size} files, ${formatSize(zip.length)}) to s3://${factory.sourceBucket}/${key}${uploaded.versionId ? ` (version ${uploaded.versionId})` : ''}`,
    );
  }
  if (pipelineExists === false) out.warn(`${noPipeline}. The upload starts nothing until then.`);

  if (!options.wait) {
    if (out.json) {
      out.data(summary);
    } else {
      out.print(`Next: pipeline ${pipeline} starts within a few seconds.`);
      out.print(`  follow it:  dcf status ${config.id}${namespace === 'devcontainers' ? '' : ` --namespace ${namespace}`}`);
      out.print(`  then ${usage(config.kind, pull)}`);
    }
    return ExitCode.Ok;
  }

  const timing = (deadline: number) => ({ clock: env.clock, pollIntervalMs: env.pollIntervalMs, deadline });
  const deadline = uploadedAt + options.timeout * 60_000;
  out.note(`Waiting for pipeline ${pipeline} to start…`);
  const execution = await findExecution(
    cp,
    pipeline,
    { versionId: uploaded.versionId, uploadedAt },
    timing(Math.min(deadline, uploadedAt + START_TIMEOUT_MS)),
    `no execution of pipeline ${pipeline} started within ${formatDuration(Math.min(deadline - uploadedAt, START_TIMEOUT_MS))} of the upload: ` +
      `check its EventBridge rule for s3://${factory.sourceBucket}/${key} (nx deploy factory), then push again`,
  );
  out.note(`Execution ${execution.pipelineExecutionId} of ${pipeline}:`);
  const report = await followExecution(
    cp,
    pipeline,
    execution,
    timing(deadline),
    (stage: StageReport) => out.note(`  ${stageLine(stage, out.errStyle)}`),
    `pipeline ${pipeline} was still running after ${options.timeout} minutes: follow it with "dcf status ${config.id}"`,
  );
  return finish(session, summary, report, config.kind, pull, env.clock.now() - uploadedAt);
}

async function upload(
  session: Session,
  factory: FactoryLocation,
  key: string,
  zip: Uint8Array,
  sha256: string,
): Promise<{ versionId?: string; etag?: string }> {
  const { Upload } = await import('@aws-sdk/lib-storage');
  const s3 = await session.aws.s3();
  const { out } = session;
  const bar = new ProgressBar(out.stderr, `Uploading ${key}`, out.interactive);
  const transfer = new Upload({
    client: s3,
    params: { Bucket: factory.sourceBucket, Key: key, Body: zip, ContentType: 'application/zip', Metadata: { 'content-sha256': sha256 } },
    queueSize: 2,
  });
  transfer.on('httpUploadProgress', (p) => bar.update(p.loaded ?? 0, p.total ?? zip.length));
  try {
    const result = await aws(`uploading to s3://${factory.sourceBucket}/${key}`, () => transfer.done(), PUSH_DENIED_ADVICE);
    return { ...(result.VersionId ? { versionId: result.VersionId } : {}), ...(result.ETag ? { etag: result.ETag } : {}) };
  } finally {
    bar.done();
  }
}

/** What to pull (an image) or reference (a feature) once the pipeline has published it. */
function pullReference(config: LoadedConfiguration, factory: FactoryLocation): string {
  const repository = `${factory.registry}/${repositoryName(factory.namespace, config.kind, config.id)}`;
  const decode = (path: string) => {
    const bytes = config.content.files.get(path);
    return bytes ? parseJsonc(new TextDecoder().decode(bytes)).value : undefined;
  };
  if (config.kind === 'feature') {
    const version = decode(FEATURE_METADATA_FILE)?.version;
    const major = typeof version === 'string' ? parseSemver(version)?.major : undefined;
    return `${repository}:${major ?? 'latest'}`;
  }
  const path = DEVCONTAINER_JSON_PATHS.find((p) => config.content.files.has(p));
  const json = path ? decode(path) : undefined;
  return `${repository}:${(json && factoryCustomization(json).version) ?? 'latest'}`;
}

function usage(kind: ArtifactKind, pull: string): string {
  return kind === 'image' ? `pull it:    docker pull ${pull}` : `use it in a devcontainer.json:  "features": { "${pull}": {} }`;
}

function finish(session: Session, summary: Record<string, unknown>, report: ExecutionReport, kind: ArtifactKind, pull: string, elapsed: number): number {
  const { out } = session;
  const ok = report.status === 'Succeeded';
  if (out.json) {
    out.data({ ...summary, execution: report });
  } else if (ok) {
    out.print(`${out.style.green('✔')} pipeline ${report.pipeline} succeeded in ${formatDuration(elapsed)}`);
    out.print(`  ${usage(kind, pull)}`);
  } else {
    const failed = report.stages.find((stage) => stage.status === 'Failed' || stage.status === 'Stopped' || stage.status === 'Cancelled');
    const where = failed ? ` at stage ${failed.name}${failed.message ? ` (${failed.message})` : ''}` : report.statusSummary ? ` (${report.statusSummary})` : '';
    out.error(
      `pipeline ${report.pipeline} ended ${report.status}${where}: see the stage's logs in the CodePipeline console, fix the configuration and push again`,
    );
  }
  return ok ? ExitCode.Ok : ExitCode.PipelineFailed;
}
