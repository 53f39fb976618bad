/**
 * The feature pipeline's decisions as one command for CodeBuild (bundled to
 * `dist/bundles/feature-tool/index.js`), each subcommand a thin shell around the
 * plain functions `dcf local` calls too:
 *
 *   validate --src <dir> --id <id>
 *   layout   --src <dir> --id <id> --out <dir>   prints the `devcontainer` arguments of the feature's tests, or nothing
 *   plan     --registry <host> --namespace <ns> --id <id> --tarball <tgz> --plan <file>   prints `publish` or `unchanged`
 *   complete --registry <host> --plan <file> [--publish-output <file>]   (the stdout of `devcontainer features publish`)
 *
 * The registry login comes from REGISTRY_USERNAME and REGISTRY_PASSWORD (for ECR:
 * `AWS` and `aws ecr get-login-password`); without them the registry is anonymous.
 */
import { readFile, writeFile } from 'node:fs/promises';
import {
  collectFiles,
  InvalidConfigurationError,
  formatProblem,
  featureCollectionLayout,
  featureTestArguments,
  writeFeatureCollection,
  featureContentFromTar,
  completeFeaturePublish,
  parsePublishOutput,
  planFeaturePublish,
  type FeaturePublishPlan,
  FEATURE_METADATA_FILE,
  readFeatureMetadata,
  validateFeatureFiles,
  parseJsonc,
  validateId,
  validateNamespace,
} from '@devcontainer-factory/core';
import { type Flags, type ToolIo, ToolUsageError, requiredFlags, runTool, toolRegistry } from '../private/tool-command';

export type { ToolIo } from '../private/tool-command';

const USAGE = 'usage: feature-tool <validate|layout|plan|complete> [options] (see the package README)';

const required = (flags: Flags, ...names: string[]) => requiredFlags(flags, USAGE, ...names);

async function validate(flags: Flags, io: ToolIo): Promise<number> {
  const [src, id] = required(flags, 'src', 'id');
  const upload = await collectFiles(src, { gitignore: false });
  const problems = validateFeatureFiles(upload.files, { expectedId: validateId(id, 'feature id') });
  if (problems.length > 0) throw new InvalidConfigurationError(problems);
  io.out(`feature '${id}' is valid`);
  return 0;
}

async function layout(flags: Flags, io: ToolIo): Promise<number> {
  const [src, id, out] = required(flags, 'src', 'id', 'out');
  const upload = await collectFiles(src, { gitignore: false });
  readFeatureMetadata(upload.files, { expectedId: validateId(id, 'feature id') });
  const collection = featureCollectionLayout(id, upload);
  await writeFeatureCollection(out, collection);
  io.out((featureTestArguments(collection, out) ?? []).join(' '));
  return 0;
}

async function plan(flags: Flags, io: ToolIo): Promise<number> {
  const [host, namespace, id, tarball, planFile] = required(flags, 'registry', 'namespace', 'id', 'tarball', 'plan');
  validateNamespace(namespace);
  validateId(id, 'feature id');
  const packaged = featureContentFromTar(await readFile(tarball), tarball);
  const metadata = packaged.get(FEATURE_METADATA_FILE);
  const version = metadata && parseJsonc(Buffer.from(metadata.data).toString('utf8')).value?.version;
  if (typeof version !== 'string')
    throw new ToolUsageError(`${tarball} has no ${FEATURE_METADATA_FILE} with a "version": package the feature laid out by 'layout'`);
  const result = await planFeaturePublish({ registry: toolRegistry(host, io), namespace, id, version, packaged });
  await writeFile(planFile, JSON.stringify(result, null, 2));
  io.err(
    result.action === 'publish'
      ? `${id} ${version} is new: publishing it will tag ${result.tags.join(', ')}`
      : `${id} ${version} is already published with this content (${result.digest}): nothing to publish`,
  );
  io.out(result.action);
  return 0;
}

async function complete(flags: Flags, io: ToolIo): Promise<number> {
  const [host, planFile] = required(flags, 'registry', 'plan');
  const publishPlan = JSON.parse(await readFile(planFile, 'utf8')) as FeaturePublishPlan;
  // The CLI's output is read only when the plan published (for `unchanged` the file may be empty).
  const output = publishPlan.action === 'publish' && flags['publish-output'] ? await readFile(flags['publish-output'], 'utf8') : undefined;
  const cliResult = output !== undefined ? parsePublishOutput(output, publishPlan.id) : undefined;
  const result = await completeFeaturePublish({ registry: toolRegistry(host, io), plan: publishPlan, cliResult });
  io.err(
    result.status === 'published'
      ? `published ${host}/${publishPlan.namespace}/features/${result.id}:${result.version} (${result.digest}) as ${result.tags.join(', ')}`
      : `${result.id} ${result.version} was already published (${result.digest})`,
  );
  io.err(`collection ${result.collection.pushed ? 'updated' : 'unchanged'}: ${result.collection.features.join(', ')}`);
  io.out(JSON.stringify(result));
  return 0;
}

/** Runs one subcommand; returns the exit code (0 done, 1 the feature or the registry refused, 2 a usage error). */
export function runFeatureTool(argv: readonly string[], io: ToolIo): Promise<number> {
  return runTool(
    {
      usage: USAGE,
      commands: { validate, layout, plan, complete },
      flags: ['src', 'id', 'out', 'registry', 'namespace', 'tarball', 'plan', 'publish-output'],
      report: (e, out) => {
        if (!(e instanceof InvalidConfigurationError)) return false;
        out.err(`the feature has ${e.problems.length} problem${e.problems.length === 1 ? '' : 's'}:`);
        for (const p of e.problems) out.err(`  ${formatProblem(p)}`);
        return true;
      },
    },
    argv,
    io,
  );
}
