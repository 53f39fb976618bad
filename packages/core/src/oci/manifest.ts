import type { Descriptor } from './descriptor';
import { MEDIA_TYPES, RegistryError, StoredManifest } from './registry';

/** Media types of image configs that a runnable image manifest points to. */
export const IMAGE_CONFIG_MEDIA_TYPES: readonly string[] = ['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json'];

const IMAGE_MANIFEST_TYPES: readonly string[] = [MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest];
const INDEX_TYPES: readonly string[] = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList];

/** Every manifest media type the registry logic reads, for `Accept` headers and ECR's `acceptedMediaTypes`. */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [...IMAGE_MANIFEST_TYPES, ...INDEX_TYPES];

export type { Descriptor, OciPlatform } from './descriptor';

/** An OCI image manifest or Docker v2 schema 2 manifest. */
export interface ImageManifest {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly annotations?: Readonly<Record<string, string>>;
}

/** An OCI image index or Docker manifest list. */
export interface ImageIndex {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly manifests: readonly Descriptor[];
  readonly annotations?: Readonly<Record<string, string>>;
}

/** The fields of an image config the registry logic reads. */
export interface ImageConfig {
  readonly os?: string;
  readonly architecture?: string;
  readonly variant?: string;
}

/** A manifest read from a registry, parsed. */
export type ParsedManifest =
  | { readonly kind: 'image'; readonly mediaType: string; readonly manifest: ImageManifest }
  | { readonly kind: 'index'; readonly mediaType: string; readonly index: ImageIndex };

/**
 * Parses stored manifest bytes as an image manifest or an index. The media type is
 * the registry's (Content-Type), else the body's `mediaType`, else guessed from the
 * fields (OCI allows a manifest without `mediaType`).
 * @param where how to name the manifest in an error, e.g. `python:abc-amd64`
 */
export function parseManifest(stored: StoredManifest, where: string): ParsedManifest {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(stored.body.toString('utf8'));
  } catch (cause) {
    throw new RegistryError(`${where}: the manifest is not valid JSON`, { cause });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new RegistryError(`${where}: the manifest is not a JSON object`);
  }
  const declared = typeof json.mediaType === 'string' ? json.mediaType : undefined;
  const mediaType = [stored.mediaType, declared].find((t) => t && MANIFEST_MEDIA_TYPES.includes(t)) ?? declared ?? stored.mediaType;
  const isIndex = INDEX_TYPES.includes(mediaType) || (!IMAGE_MANIFEST_TYPES.includes(mediaType) && Array.isArray(json.manifests));
  if (isIndex) {
    if (!Array.isArray(json.manifests)) throw new RegistryError(`${where}: the index (${mediaType}) has no 'manifests' list`);
    return { kind: 'index', mediaType: INDEX_TYPES.includes(mediaType) ? mediaType : MEDIA_TYPES.ociIndex, index: json as unknown as ImageIndex };
  }
  if (typeof json.config !== 'object' || json.config === null || !Array.isArray(json.layers)) {
    throw new RegistryError(`${where}: '${mediaType}' is neither an image manifest (config + layers) nor an index (manifests)`);
  }
  return {
    kind: 'image',
    mediaType: IMAGE_MANIFEST_TYPES.includes(mediaType) ? mediaType : MEDIA_TYPES.ociManifest,
    manifest: json as unknown as ImageManifest,
  };
}
