/**
 * `dcf sbom <id>[:<tag>]`: the software bill of materials (CycloneDX JSON) of one
 * per-arch image of a released image, read from the OCI 1.1 referrer stored beside it,
 * printed to stdout byte for byte or written to a file.
 */
import { linkSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Command } from 'commander';
import {
  OciRegistry,
  RegistryError,
  SBOM_ARTIFACT_TYPE,
  UnsupportedPlatformError,
  formatPlatform,
  idProblem,
  listReferrers,
  parseManifest,
  parsePlatform,
  platformMatches,
  readArtifact,
  registryAnswers,
  repositoryName,
  sha256Digest,
  type Descriptor,
  type OciPlatform,
  type Platform,
} from '@devcontainer-factory/core';
import { DcfError, ExitCode } from '../dcf-error';
import { hostPlatform } from '../local/container-engine';
import { localRegistryHostProblem } from '../local/local-registry';
import { aws } from '../private/aws-errors';
import { findFactory } from '../private/factory';
import type { App, Session } from '../private/session';

interface SbomOptions {
  readonly platform?: string;
  readonly output?: string;
  readonly force?: boolean;
  readonly registry?: string;
}

/** The tag of a release when none is given. */
const DEFAULT_TAG = 'latest';
/** A tag as the OCI distribution spec allows it. */
const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

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
        'Reads the factory\'s ECR registry, or a local registry with --registry.',
    )
    .argument('<id[:tag]>', 'image id, with a tag after a colon (default tag: latest), e.g. python or python:1.2.3')
    .option('--platform <os/arch>', 'platform of the image, e.g. linux/arm64 (default: the only one, else this machine\'s)')
    .option('-o, --output <file>', 'write the SBOM to this file (atomically) instead of stdout')
    .option('--force', 'overwrite the --output file if it exists')
    .option('--registry <host>', 'read from the local registry at localhost:<port> instead of the factory\'s ECR registry')
    .addHelpText('after', EXAMPLES)
    .action(app.action(async (session, image: string, options: SbomOptions) => sbom(session, image, options)));
}

async function sbom(session: Session, image: string, options: SbomOptions): Promise<number> {
  // Check the whole command line before the first request.
  const { id, tag } = parseImageArgument(image);
  const wanted = options.platform === undefined ? undefined : platformOption(options.platform);
  if (options.registry !== undefined) {
    const problem = localRegistryHostProblem(options.registry);
    if (problem) throw new DcfError(`--registry: ${problem}`, ExitCode.Usage);
  }
  if (options.force && options.output === undefined) throw new DcfError('--force only applies to --output: pass the file to write with --output', ExitCode.Usage);
  const target = options.output === undefined ? undefined : checkTarget(session.path(options.output), options.output, options.force === true);

  const { namespace } = session.options;
  const repository = repositoryName(namespace, 'image', id);
  const registry = options.registry === undefined ? await ecrRegistry(session) : await localRegistry(options.registry);
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

/** `<id>[:<tag>]`, checked. */
function parseImageArgument(image: string): { id: string; tag: string } {
  const colon = image.indexOf(':');
  const id = colon < 0 ? image : image.slice(0, colon);
  const tag = colon < 0 ? DEFAULT_TAG : image.slice(colon + 1);
  const problem = idProblem(id);
  if (problem) throw new DcfError(`${problem} (give <id>[:<tag>], e.g. python or python:1.2.3)`, ExitCode.Usage);
  if (!TAG_PATTERN.test(tag)) {
    throw new DcfError(`'${tag}' is not a tag: give <id>[:<tag>] with a tag of letters, digits, '_', '.' and '-' (at most 128), e.g. ${id}:latest or ${id}:1.2.3`, ExitCode.Usage);
  }
  return { id, tag };
}

function platformOption(name: string): Platform {
  try {
    return parsePlatform(name);
  } catch (e) {
    if (e instanceof UnsupportedPlatformError) throw new DcfError(`--platform: ${e.message}`, ExitCode.Usage, { cause: e });
    throw e;
  }
}

/** The factory's ECR registry, with the basic credentials of ECR's `GetAuthorizationToken`. */
async function ecrRegistry(session: Session): Promise<OciRegistry> {
  const factory = await findFactory(session.aws, session.options.namespace);
  const { GetAuthorizationTokenCommand } = await import('@aws-sdk/client-ecr');
  const ecr = await session.aws.ecr();
  const doing = `getting a token to read ${factory.registry} (ecr:GetAuthorizationToken)`;
  const answer = await aws(doing, () => ecr.send(new GetAuthorizationTokenCommand({})));
  const token = answer.authorizationData?.[0]?.authorizationToken;
  const decoded = token ? Buffer.from(token, 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  if (colon < 1) throw new DcfError(`ECR answered ${doing} without a usable token: try again, or check the region (--region)`, ExitCode.Aws);
  return new OciRegistry({ host: factory.registry, username: decoded.slice(0, colon), password: decoded.slice(colon + 1) });
}

async function localRegistry(host: string): Promise<OciRegistry> {
  if (!(await registryAnswers(host))) {
    throw new DcfError(`no registry answers at http://${host}/v2/: start it (e.g. dcf local run --keep-running) or pass the --registry it runs at`, ExitCode.Aws);
  }
  return new OciRegistry({ host });
}

/** Registry failures (network, refused credentials, broken manifests) as user errors that name the registry. */
async function readingFrom<T>(where: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (e) {
    if (e instanceof RegistryError && !(e instanceof DcfError)) throw new DcfError(`reading ${where} failed: ${e.message}`, ExitCode.Aws, { cause: e });
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
  const stored = await registry.getManifest(repository, tag);
  if (!stored) {
    const tags = await registry.listTags(repository);
    if (tags.length === 0) {
      throw new DcfError(`there is no image '${id}' in ${registry.host} (no repository ${repository}): check the id and --namespace, or release it first`, ExitCode.Aws);
    }
    const releaseTags = tags.filter((t) => !/^sha256-/.test(t)).sort();
    const listed = releaseTags.slice(0, 20).join(', ') + (releaseTags.length > 20 ? `, … (${releaseTags.length} in all)` : '');
    throw new DcfError(`${where} has no tag '${tag}': it has ${listed} (dcf tags ${id})`, ExitCode.Aws);
  }
  const parsed = parseManifest(stored, `${where}:${tag}`);
  const chosen =
    parsed.kind === 'index' ? choosePlatform(parsed.index.manifests, shown, wanted) : await singleImage(registry, repository, stored.digest, parsed.manifest.config.digest, shown, wanted);
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
async function singleImage(registry: OciRegistry, repository: string, digest: string, configDigest: string, shown: string, wanted: Platform | undefined): Promise<ChosenImage> {
  let platform: OciPlatform | undefined;
  try {
    const config = JSON.parse((await registry.getBlob(repository, configDigest)).toString('utf8')) as Partial<OciPlatform>;
    if (typeof config.os === 'string' && typeof config.architecture === 'string') platform = { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) };
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

/** Refuses an --output whose folder is missing, that names a folder, or that exists (unless `force`). */
function checkTarget(target: string, shown: string, force: boolean): string {
  const parent = statSync(dirname(target), { throwIfNoEntry: false });
  if (!parent) throw new DcfError(`the folder of '${shown}' does not exist: create it (mkdir -p ${dirname(shown)}) or pass another --output`, ExitCode.Usage);
  if (!parent.isDirectory()) throw new DcfError(`'${dirname(shown)}' is not a folder: pass an --output inside a folder`, ExitCode.Usage);
  const existing = statSync(target, { throwIfNoEntry: false });
  if (existing?.isDirectory()) throw new DcfError(`'${shown}' is a folder: pass the path of the file to write, e.g. --output ${join(shown, 'sbom.cdx.json')}`, ExitCode.Usage);
  if (existing && !existing.isFile()) throw new DcfError(`'${shown}' exists and is not a regular file: pass another --output`, ExitCode.Usage);
  if (existing && !force) throw new DcfError(`'${shown}' exists: pass --force to overwrite it, or another --output`, ExitCode.Usage);
  return target;
}

/**
 * Writes `bytes` to a temp file beside `target`, then moves it into place: a rename
 * with `force`; otherwise a hard link, which fails when the target appeared meanwhile.
 */
function writeAtomically(target: string, shown: string, bytes: Buffer, force: boolean): void {
  const temporary = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  let placing = false;
  try {
    writeFileSync(temporary, bytes, { flag: 'wx' });
    placing = true;
    if (force) renameSync(temporary, target);
    else linkSync(temporary, target);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    if (placing && code === 'EEXIST' && !force) throw new DcfError(`'${shown}' exists: pass --force to overwrite it, or another --output`, ExitCode.Usage, { cause: e });
    throw new DcfError(`cannot write '${shown}' (${code}): check that its folder is writable and has space, or pass another --output`, ExitCode.Aws, { cause: e });
  } finally {
    rmSync(temporary, { force: true });
  }
}
