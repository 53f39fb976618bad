/**
 * `dcf fetch <id>[:<tag>|@<digest>] [-o FILE]`: the exact configuration zip a released
 * image was built from, read from the OCI 1.1 referrer the pipeline keeps beside its
 * image index, checked against the digest the index records, and written to a file.
 */
import { Command } from 'commander';
import {
  CONFIGURATION_ARTIFACT_TYPE,
  CONFIGURATION_BUILD_ANNOTATION,
  ImageConfigurationError,
  formatSize,
  parseManifest,
  readImageConfiguration,
  repositoryName,
  type OciRegistry,
  type StoredConfiguration,
} from '@devcontainer-factory/core';
import { DcfError, ExitCode } from '../dcf-error';
import { checkTarget, writeAtomically } from '../private/output-file';
import { checkRegistryOption, parseImageArgument, readingFrom, releaseRegistry, releasedManifest, type ImageArgument } from '../private/released-image';
import type { App, Session } from '../private/session';

interface FetchOptions {
  readonly output?: string;
  readonly force?: boolean;
  readonly registry?: string;
}

const USAGE = '<id>[:<tag>|@<digest>]';

const EXAMPLES = `
Examples:
  $ dcf fetch python                                   the configuration of python:latest, as python.zip
  $ dcf fetch python:1.2.3 -o python-1.2.3.zip
  $ dcf fetch python@sha256:9a8b… -o shipped.zip --force
  $ dcf fetch python --registry localhost:5000         from a local registry (dcf local run --keep-running)
`;

export function fetchCommand(app: App): Command {
  return new Command('fetch')
    .summary('download the configuration zip a released image was built from')
    .description(
      'Download the exact configuration zip (as it was uploaded) that a released image was built from: the pipeline keeps it beside the image index ' +
        "as an OCI referrer, so it outlives the source bucket's object versions. The zip is checked against the digest the index records before it is written. " +
        "Reads the factory's ECR registry, or a local registry with --registry.",
    )
    .argument(
      '<id[:tag|@digest]>',
      'image id, with a tag after a colon (default tag: latest) or a digest after an @, e.g. python, python:1.2.3 or python@sha256:…',
    )
    .option('-o, --output <file>', 'zip to write, atomically (default: <id>.zip in the current folder)')
    .option('--force', 'overwrite the file if it exists')
    .option('--registry <host>', "read from the local registry at localhost:<port> instead of the factory's ECR registry")
    .addHelpText('after', EXAMPLES)
    .action(app.action(async (session, image: string, options: FetchOptions) => fetchConfiguration(session, image, options)));
}

async function fetchConfiguration(session: Session, image: string, options: FetchOptions): Promise<number> {
  // Check the whole command line, and the file to write, before the first request.
  const wanted = parseImageArgument(image, { digests: true, usage: USAGE, examples: 'python, python:1.2.3 or python@sha256:…' });
  checkRegistryOption(options.registry);
  const shownFile = options.output ?? `${wanted.id}.zip`;
  const force = options.force === true;
  const target = checkTarget(session.path(shownFile), shownFile, force, `${wanted.id}.zip`);

  const repository = repositoryName(session.options.namespace, 'image', wanted.id);
  const registry = await releaseRegistry(session, options.registry);
  const where = `${registry.host}/${repository}`;
  const found = await readingFrom(where, () => findConfiguration(registry, repository, wanted));
  const { out } = session;
  const { stored, configuration } = found;
  const build = configuration.referrer.annotations?.[CONFIGURATION_BUILD_ANNOTATION];
  const checked = configuration.recorded ? 'the digest the index records' : 'its own digest (the index records none)';
  out.note(
    `${wanted.shown} ${stored.digest}${build ? ` (build ${build})` : ''}: configuration ${configuration.digest}, ${formatSize(configuration.bytes.length)}, matches ${checked}`,
  );

  writeAtomically(target, shownFile, configuration.bytes, force);
  if (out.json) {
    out.data({
      id: wanted.id,
      ...(wanted.tag !== undefined ? { tag: wanted.tag } : {}),
      repository,
      registry: registry.host,
      digest: stored.digest,
      ...(build ? { build } : {}),
      configuration: {
        digest: configuration.digest,
        bytes: configuration.bytes.length,
        referrer: configuration.referrer.digest,
        recorded: configuration.recorded,
      },
      file: target,
    });
  } else {
    out.print(`${out.style.green('✔')} wrote ${shownFile} (${formatSize(configuration.bytes.length)}, ${configuration.digest})`);
  }
  return ExitCode.Ok;
}

async function findConfiguration(
  registry: OciRegistry,
  repository: string,
  wanted: ImageArgument,
): Promise<{ stored: { digest: string; body: Buffer }; configuration: StoredConfiguration }> {
  const where = `${registry.host}/${repository}`;
  const stored = await releasedManifest(registry, repository, wanted);
  let configuration: StoredConfiguration | undefined;
  try {
    configuration = await readImageConfiguration(registry, repository, stored);
  } catch (e) {
    if (e instanceof ImageConfigurationError) throw new DcfError(`${e.message}; nothing was written`, ExitCode.Aws, { cause: e });
    throw e;
  }
  if (configuration) return { stored, configuration };
  const parsed = parseManifest(stored, `${where}@${stored.digest}`);
  if (parsed.kind === 'image') {
    throw new DcfError(
      `${wanted.shown} is a per-arch image (${stored.digest}), not the image index a configuration is kept with: fetch the release's tag or the index's digest instead, e.g. ${wanted.id}:latest`,
      ExitCode.Usage,
    );
  }
  throw new DcfError(
    `${wanted.shown} (${stored.digest}) has no configuration kept with it: ${where} has no referrer of type ${CONFIGURATION_ARTIFACT_TYPE} for it; ` +
      'it was released before the factory kept configurations with its releases (every build since keeps one), so its configuration is not stored',
    ExitCode.Aws,
  );
}
