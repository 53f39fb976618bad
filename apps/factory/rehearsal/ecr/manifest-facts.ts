/**
 * What ECR reports about a manifest, read from its bytes: whether it is an index or an
 * image, what it refers to, its size as `DescribeImages` gives it, its `subject` and
 * artifact type (for the referrers API).
 */
import { IMAGE_CONFIG_MEDIA_TYPES, MEDIA_TYPES } from '@devcontainer-factory/core';

export interface ManifestFacts {
  readonly kind: 'index' | 'image';
  /** The manifest's media type: the one it was stored with, else its `mediaType` field. */
  readonly mediaType: string;
  /** Digests of the manifests an index lists. */
  readonly children: readonly string[];
  /** Digests of the config and layers of an image manifest. */
  readonly blobs: readonly string[];
  /** The config's media type (`artifactMediaType` in `DescribeImages`). */
  readonly configMediaType?: string;
  /** Sum of the layer sizes of an image manifest (ECR's `imageSizeInBytes`). */
  readonly layersSize: number;
  /** The digest of the manifest's `subject`, for referrers. */
  readonly subject?: string;
  /** The artifact type a referrers list gives it: `artifactType`, else the config's media type. */
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** Why manifest bytes are not a manifest. */
export class ManifestShapeProblem {
  constructor(readonly problem: string) {}
}

const INDEX_TYPES: readonly string[] = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function digestOf(descriptor: unknown): string | undefined {
  return isObject(descriptor) && typeof descriptor.digest === 'string' ? descriptor.digest : undefined;
}

function sizeOf(descriptor: unknown): number {
  return isObject(descriptor) && typeof descriptor.size === 'number' && Number.isSafeInteger(descriptor.size) && descriptor.size >= 0 ? descriptor.size : 0;
}

/** The facts of a manifest, or the problem that makes it none (not JSON, no `schemaVersion` 2, neither an index nor an image). */
export function manifestFacts(body: Buffer, storedMediaType: string | undefined): ManifestFacts | ManifestShapeProblem {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return new ManifestShapeProblem('Invalid JSON syntax');
  }
  if (!isObject(json)) return new ManifestShapeProblem('the manifest is not a JSON object');
  if (json.schemaVersion !== 2) return new ManifestShapeProblem('the manifest has no schemaVersion 2');
  const declared = typeof json.mediaType === 'string' ? json.mediaType : undefined;
  const mediaType = storedMediaType || declared || (Array.isArray(json.manifests) ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.ociManifest);
  const subject = digestOf(json.subject);
  const annotations = isObject(json.annotations) ? (json.annotations as Record<string, string>) : undefined;
  const artifactType = typeof json.artifactType === 'string' ? json.artifactType : undefined;
  if (INDEX_TYPES.includes(mediaType) || (Array.isArray(json.manifests) && !isObject(json.config))) {
    if (!Array.isArray(json.manifests)) return new ManifestShapeProblem("the index has no 'manifests' list");
    const children = json.manifests.map(digestOf);
    if (children.some((d) => d === undefined)) return new ManifestShapeProblem("an entry of 'manifests' has no digest");
    return { kind: 'index', mediaType, children: children as string[], blobs: [], layersSize: 0, subject, artifactType, annotations };
  }
  if (!isObject(json.config) || !Array.isArray(json.layers)) return new ManifestShapeProblem("the manifest has neither 'manifests' nor 'config' and 'layers'");
  const config = digestOf(json.config);
  const layers = json.layers.map(digestOf);
  if (config === undefined || layers.some((d) => d === undefined)) return new ManifestShapeProblem('a descriptor of the manifest has no digest');
  const configMediaType = typeof json.config.mediaType === 'string' ? json.config.mediaType : undefined;
  return {
    kind: 'image',
    mediaType,
    children: [],
    blobs: [config, ...(layers as string[])],
    configMediaType,
    layersSize: json.layers.reduce((sum: number, layer) => sum + sizeOf(layer), 0),
    subject,
    artifactType: artifactType ?? configMediaType,
    annotations,
  };
}

/** True for an image manifest whose config is a runnable image's (what basic scanning can scan). */
export function isScannableImage(facts: ManifestFacts): boolean {
  return facts.kind === 'image' && facts.configMediaType !== undefined && IMAGE_CONFIG_MEDIA_TYPES.includes(facts.configMediaType);
}
