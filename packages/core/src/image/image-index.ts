import { archTag } from './release-tags';
import { sha256Digest } from '../oci/digest';
import { Descriptor, IMAGE_CONFIG_MEDIA_TYPES, ImageConfig, OciPlatform, parseManifest } from '../oci/manifest';
import { Platform, formatPlatform, parsePlatform } from '../oci/platform';
import { MEDIA_TYPES, Registry, RegistryError } from '../oci/registry';

/** The image index {@link assembleIndex} put under `<build>`. */
export interface AssembledIndex {
  /** `sha256:…` of the index bytes. */
  readonly digest: string;
  /** Always the OCI image index media type. */
  readonly mediaType: string;
  /** One descriptor per platform, ordered by platform (`linux/amd64` before `linux/arm64`). */
  readonly manifests: readonly Descriptor[];
  /** The exact bytes that were put. */
  readonly body: Buffer;
}

/** Thrown when the per-arch images of a build cannot make an index; the message says which tag and why. */
export class ImageIndexError extends RegistryError {}

/**
 * The bytes of an OCI image index over `manifests` (with `annotations`, keys sorted,
 * when there are any): compact JSON with a fixed key order and no timestamps, so the
 * same descriptors and annotations always give the same digest.
 */
export function imageIndexBytes(manifests: readonly Descriptor[], annotations: Readonly<Record<string, string>> = {}): Buffer {
  const ordered = manifests.map((m) => ({
    mediaType: m.mediaType,
    digest: m.digest,
    size: m.size,
    ...(m.platform
      ? {
          platform: {
            architecture: m.platform.architecture,
            os: m.platform.os,
            ...(m.platform.variant ? { variant: m.platform.variant } : {}),
          },
        }
      : {}),
  }));
  const keys = Object.keys(annotations).sort();
  const sorted = Object.fromEntries(keys.map((k) => [k, annotations[k]]));
  return Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: ordered, ...(keys.length ? { annotations: sorted } : {}) }),
  );
}

/** Reads `<build>-<arch>` and checks that it is a single-platform image of `platform`; returns its descriptor. */
async function perArchDescriptor(registry: Registry, repository: string, buildId: string, platform: Platform): Promise<Descriptor> {
  const tag = archTag(buildId, platform.arch);
  const where = `${repository}:${tag}`;
  const stored = await registry.getManifest(repository, tag);
  if (!stored) {
    throw new ImageIndexError(`${where} does not exist: the ${platform.name} build of ${buildId} must push it before the index is made`);
  }
  const parsed = parseManifest(stored, where);
  if (parsed.kind === 'index') {
    throw new ImageIndexError(
      `${where} is an image index (${parsed.mediaType}, ${parsed.index.manifests.length} manifests), not a single-platform image manifest: ` +
        'build each platform on its own without attestations (docker buildx build --provenance=false --sbom=false)',
    );
  }
  const configType = parsed.manifest.config?.mediaType;
  if (!IMAGE_CONFIG_MEDIA_TYPES.includes(configType)) {
    throw new ImageIndexError(`${where} is not a container image: its config is '${configType}', expected one of ${IMAGE_CONFIG_MEDIA_TYPES.join(', ')}`);
  }
  let config: ImageConfig;
  try {
    config = JSON.parse((await registry.getBlob(repository, parsed.manifest.config.digest)).toString('utf8'));
  } catch (cause) {
    throw new ImageIndexError(`cannot read the image config ${parsed.manifest.config.digest} of ${where}`, { cause });
  }
  const actual: OciPlatform = { os: config.os ?? '?', architecture: config.architecture ?? '?', ...(config.variant ? { variant: config.variant } : {}) };
  if (actual.os !== platform.os || actual.architecture !== platform.architecture) {
    throw new ImageIndexError(
      `${where} holds a ${formatPlatform(actual)} image, but that tag is for ${platform.name}: the ${platform.name} build pushed the wrong image (check its build platform)`,
    );
  }
  if (platform.variant && actual.variant && platform.variant !== actual.variant) {
    throw new ImageIndexError(`${where} holds a ${formatPlatform(actual)} image, but that tag is for ${platform.name}`);
  }
  const variant = actual.variant ?? platform.variant;
  return {
    mediaType: parsed.mediaType,
    digest: stored.digest,
    size: stored.body.length,
    platform: { architecture: platform.architecture, os: platform.os, ...(variant ? { variant } : {}) },
  };
}

/**
 * Makes the multi-platform image of a build: reads `<build>-<arch>` for each
 * platform, checks that each is a single-platform image manifest whose config says
 * the right os and architecture, and puts an OCI image index over them under tag
 * `<build>`. The index bytes depend only on the per-arch manifests (not on the
 * order of `platforms`, not on the time), so running it again gives the same digest.
 * @param platforms e.g. `['linux/amd64', 'linux/arm64']`; `linux/arm64/v8` is accepted too
 * @param annotations of the index, e.g. the build's input record
 */
export async function assembleIndex(
  registry: Registry,
  repository: string,
  buildId: string,
  platforms: readonly string[],
  annotations: Readonly<Record<string, string>> = {},
): Promise<AssembledIndex> {
  if (platforms.length === 0) throw new ImageIndexError(`no platforms given for ${repository}:${buildId}: name at least one, e.g. linux/amd64`);
  const parsed = platforms.map(parsePlatform);
  const seen = new Map<string, string>();
  for (const p of parsed) {
    const other = seen.get(p.arch);
    if (other) throw new ImageIndexError(`platforms '${other}' and '${p.name}' both read tag ${archTag(buildId, p.arch)}: name each architecture once`);
    seen.set(p.arch, p.name);
  }
  const descriptors = await Promise.all(parsed.map((p) => perArchDescriptor(registry, repository, buildId, p)));
  const key = (d: Descriptor) => formatPlatform(d.platform!);
  const manifests = [...descriptors].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const body = imageIndexBytes(manifests, annotations);
  const digest = sha256Digest(body);
  await registry.putManifest(repository, buildId, MEDIA_TYPES.ociIndex, body);
  return { digest, mediaType: MEDIA_TYPES.ociIndex, manifests, body };
}
