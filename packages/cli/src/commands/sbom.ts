/**
 * `dcf sbom <id>[:<tag>]`: the software bill of materials (CycloneDX JSON) of one
 * per-arch image of a released image, read from the OCI 1.1 referrer stored beside it,
 * printed to stdout byte for byte or written to a file.
 */
import { Command } from 'commander';
import {
  OciRegistry,
  SBOM_ARTIFACT_TYPE,
  UnsupportedPlatformError,
  formatPlatform,
  listReferrers,
  parseManifest,
  parsePlatform,
  platformMatches,
  readArtifact,
  repositoryName,
  sha256Digest,
  type Descriptor,
  type OciPlatform,
  type Platform,
} from '@devcontainer-factory/core';
import { DcfError, ExitCode } from '../dcf-error';
import { hostPlatform } from '../local/container-engine';
import { checkTarget, writeAtomically } from '../private/output-file';
import { checkRegistryOption, parseImageArgument, readingFrom, releaseRegistry, releasedManifest } from '../private/released-image';
import type { App, Session } from '../private/session';

interface SbomOptions {
  readonly platform?: string;
  readonly output?: string;
  readonly force?: boolean;
  readonly registry?: string;
}

const EXAMPLES = `
Examples:
  $ dcf sbom python                                      the SBOM of python:latest for this machine's platform
  $ dcf sbom python:1.2.3 --platform linux/arm64 -o python-arm64.cdx.json
  $ dcf sbom python --registry localhost:5000            from a local registry (dcf local run --keep-running)
`;

export function sbomCommand(app: App): Command {
  return new Command('sbom')
    .summary('print or save the SBOM (CycloneDX JSON) of a released image')
    .description(
      'Print the software bill of materials of a released image, as the pipeline stored it beside the image (an OCI referrer): ' +
        'CycloneDX JSON, byte for byte, on stdout or in --output. An image of several platforms has one SBOM per platform: ' +
        'the only one is taken, else the one of this machine, unless --platform names another. ' +
        "Reads the factory's ECR registry, or a local registry with --registry.",
    )
    .argument('<id[:tag]>', 'image id, with a tag after a colon (default tag: latest), e.g. python or python:1.2.3')
    .option('--platform <os/arch>', "platform of the image, e.g. linux/arm64 (default: the only one, else this machine's)")
    .option('-o, --output <file>', 'write the SBOM to this file (atomically) instead of stdout')
    .option('--force', 'overwrite the --output file if it exists')
    .option('--registry <host>', "read from the local registry at localhost:<port> instead of the factory's ECR registry")
    .addHelpText('after', EXAMPLES)
    .action(app.action(async (session, image: string, options: SbomOptions) => sbom(session, image, options)));
}

async function sbom(session: Session, image: string, options: SbomOptions): Promise<number> {
  // Check the whole command line before the first request.
  // A tag only: an SBOM is about a per-arch image of a release, found by its tag.
  const { id, reference: tag } = parseImageArgument(image, { usage: '<id>[:<tag>]', examples: 'python or python:1.2.3' });
  const wanted = options.platform === undefined ? undefined : platformOption(options.platform);
  checkRegistryOption(options.registry);
  if (options.force && options.output === undefined)
    throw new DcfError('--force only applies to --output: pass the file to write with --output', ExitCode.Usage);
  const target = options.output === undefined ? undefined : checkTarget(session.path(options.output), options.output, options.force === true, 'sbom.cdx.json');

  const { namespace } = session.options;
  const repository = repositoryName(namespace, 'image', id);
  const registry = await releaseRegistry(session, options.registry);
  const where = `${registry.host}/${repository}`;
  const found = await readingFrom(where, () => findSbom(registry, repository, id, tag, wanted));
  const { out } = session;
  const shown = `${id}:${tag}`;
  if (found.platformReason) out.note(`platform ${found.platform} (${found.platformReason})`);

  const components = countComponents(found.bytes, `${where}@${found.sbomDigest}`);
  const summary = `${shown} ${found.platform} ${found.imageDigest}: ${components} component${components === 1 ? '' : 's'} (SBOM ${found.sbomDigest})`;
  if (target) {
    writeAtomically(target, options.output!, found.bytes, options.force === true);
    if (out.json) {
      out.data({
        id,
        tag,
        repository,
        registry: registry.host,
        platform: found.platform,
        digest: found.imageDigest,
        sbom: { digest: found.sbomDigest, mediaType: found.mediaType, bytes: found.bytes.length, sha256: sha256Digest(found.bytes), components },
        file: target,
      });
    } else {
      out.note(summary);
      out.print(`${out.style.green('✔')} wrote ${options.output} (${found.bytes.length} bytes, ${sha256Digest(found.bytes)})`);
    }
    return ExitCode.Ok;
  }
  // stdout takes text: print the bytes only when they are UTF-8, so that what arrives is exactly what was stored.
  const text = found.bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(found.bytes)) {
    throw new DcfError(`the SBOM ${found.sbomDigest} of ${shown} ${found.platform} is not UTF-8 text: save its exact bytes with --output <file>`, ExitCode.Aws);
  }
  out.note(summary);
  out.stdout.write(text);
  return ExitCode.Ok;
}

function platformOption(name: string): Platform {
  try {
    return parsePlatform(name);
  } catch (e) {
    if (e instanceof UnsupportedPlatformError) throw new DcfError(`--platform: ${e.message}`, ExitCode.Usage, { cause: e });
    throw e;
  }
}

interface FoundSbom {
  readonly platform: string;
  /** Why this platform, when --platform did not name it. */
  readonly platformReason?: string;
  readonly imageDigest: string;
  readonly sbomDigest: string;
  readonly mediaType: string;
  readonly bytes: Buffer;
}

async function findSbom(registry: OciRegistry, repository: string, id: string, tag: string, wanted: Platform | undefined): Promise<FoundSbom> {
  const shown = `${id}:${tag}`;
  const where = `${registry.host}/${repository}`;
  const stored = await releasedManifest(registry, repository, { id, reference: tag, shown, tag });
  const parsed = parseManifest(stored, `${where}:${tag}`);
  const chosen =
    parsed.kind === 'index'
      ? choosePlatform(parsed.index.manifests, shown, wanted)
      : await singleImage(registry, repository, stored.digest, parsed.manifest.config.digest, shown, wanted);
  const referrers = await listReferrers(registry, repository, chosen.digest, SBOM_ARTIFACT_TYPE);
  if (referrers.length === 0) {
    throw new DcfError(
      `${shown} ${chosen.platform} was released without an SBOM: ${where}@${chosen.digest} has no referrer of type ${SBOM_ARTIFACT_TYPE}; ` +
        'it was released before the factory stored SBOMs (every build since stores one)',
      ExitCode.Aws,
    );
  }
  const referrer = referrers[referrers.length - 1];
  const { bytes, mediaType } = await readArtifact(registry, repository, referrer);
  return { platform: chosen.platform, platformReason: chosen.reason, imageDigest: chosen.digest, sbomDigest: referrer.digest, mediaType, bytes };
}

interface ChosenImage {
  readonly digest: string;
  readonly platform: string;
  readonly reason?: string;
}

/** The per-arch image of an index: the one of --platform, else the only one, else this machine's. */
function choosePlatform(manifests: readonly Descriptor[], shown: string, wanted: Platform | undefined): ChosenImage {
  const images = manifests.filter((m): m is Descriptor & { platform: OciPlatform } => m.platform !== undefined && m.platform.os !== 'unknown');
  const offered = images.map((m) => formatPlatform(m.platform));
  const list = offered.join(', ') || 'none';
  if (wanted) {
    const entry = images.find((m) => platformMatches(wanted, m.platform));
    if (!entry) throw new DcfError(`${shown} has no image for ${wanted.name}: its platforms are ${list}; pass one of them to --platform`, ExitCode.Aws);
    return { digest: entry.digest, platform: formatPlatform(entry.platform) };
  }
  if (images.length === 1) return { digest: images[0].digest, platform: offered[0], reason: `the only platform of ${shown}` };
  if (images.length === 0) throw new DcfError(`${shown} is an index without platforms: it names no per-arch image to read an SBOM of`, ExitCode.Aws);
  let host: string | undefined;
  try {
    host = hostPlatform();
  } catch {
    host = undefined;
  }
  const entry = host === undefined ? undefined : images.find((m) => platformMatches(parsePlatform(host!), m.platform));
  if (!entry) throw new DcfError(`${shown} has several platforms (${list}) and none is this machine's: pass one of them to --platform`, ExitCode.Usage);
  const platform = formatPlatform(entry.platform);
  const others = offered.filter((p) => p !== platform);
  return { digest: entry.digest, platform, reason: `this machine's; ${shown} also has ${others.join(', ')}: pass --platform for another` };
}

/** A tag that names one image manifest, not an index: its platform is its config's. */
async function singleImage(
  registry: OciRegistry,
  repository: string,
  digest: string,
  configDigest: string,
  shown: string,
  wanted: Platform | undefined,
): Promise<ChosenImage> {
  let platform: OciPlatform | undefined;
  try {
    const config = JSON.parse((await registry.getBlob(repository, configDigest)).toString('utf8')) as Partial<OciPlatform>;
    if (typeof config.os === 'string' && typeof config.architecture === 'string')
      platform = { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) };
  } catch {
    // A config that cannot be read or parsed leaves the platform unknown; the SBOM is still the image's.
    platform = undefined;
  }
  const name = platform ? formatPlatform(platform) : 'unknown platform';
  if (wanted && !(platform && platformMatches(wanted, platform))) {
    throw new DcfError(`${shown} has no image for ${wanted.name}: it is a single image, for ${name}; leave out --platform`, ExitCode.Aws);
  }
  return { digest, platform: name, ...(wanted ? {} : { reason: `the only platform of ${shown}` }) };
}

/** The number of components of a CycloneDX document; refuses anything else. */
function countComponents(bytes: Buffer, where: string): number {
  let bom: { bomFormat?: unknown; components?: unknown };
  try {
    bom = JSON.parse(bytes.toString('utf8')) as typeof bom;
  } catch (cause) {
    throw new DcfError(`the SBOM ${where} is not JSON: it is damaged; release the image again to store a new one`, ExitCode.Aws, { cause });
  }
  if (bom === null || typeof bom !== 'object' || bom.bomFormat !== 'CycloneDX') {
    throw new DcfError(`the SBOM ${where} is not a CycloneDX document (no "bomFormat": "CycloneDX"): release the image again to store a new one`, ExitCode.Aws);
  }
  return Array.isArray(bom.components) ? bom.components.length : 0;
}
