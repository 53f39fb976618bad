/**
 * How the devcontainer CLI (0.89) stores a feature in an OCI registry, as read back
 * from a registry it published to: an OCI image manifest whose config is the empty
 * JSON `{}` of media type `application/vnd.devcontainers`, with one layer of media
 * type `application/vnd.devcontainers.layer.v1+tar` (an uncompressed tar despite
 * its title `devcontainer-feature-<id>.tgz`), and the feature's metadata in the
 * manifest annotation `dev.containers.metadata`. The collection's metadata lives
 * in `<ns>/features:latest` the same way, with one
 * `application/vnd.devcontainers.collection.layer.v1+json` layer titled
 * `devcontainer-collection.json`.
 */
import { parseJsonc } from '../config/devcontainer-json';
import { parseManifest } from '../oci/manifest';
import type { Registry, StoredManifest } from '../oci/registry';
import { featureContentFromTar, FeatureArtifactError, type FeatureContent } from './feature-content';
import { FEATURE_METADATA_FILE, type FeatureMetadata } from './validate-feature';

/** Media types and annotations of the devcontainer CLI's OCI artifacts. */
export const DEVCONTAINER_ARTIFACT = {
  /** Media type of the (empty, `{}`) config blob of features and collections. */
  configMediaType: 'application/vnd.devcontainers',
  /** Media type of a feature's layer: the tar of its folder. */
  featureLayerMediaType: 'application/vnd.devcontainers.layer.v1+tar',
  /** Media type of the collection's layer: `devcontainer-collection.json`. */
  collectionLayerMediaType: 'application/vnd.devcontainers.collection.layer.v1+json',
  /** Manifest annotation holding the feature's `devcontainer-feature.json` as compact JSON. */
  metadataAnnotation: 'dev.containers.metadata',
  /** Layer annotation with the layer's file name. */
  titleAnnotation: 'org.opencontainers.image.title',
  /** File name of the collection's layer. */
  collectionFileName: 'devcontainer-collection.json',
} as const;

/** File name the CLI gives a packaged feature: `devcontainer-feature-<id>.tgz`. */
export function featureTarballName(id: string): string {
  return `devcontainer-feature-${id}.tgz`;
}

/** A feature as a registry holds it under a tag. */
export interface PublishedFeature {
  /** Digest of the feature's manifest. */
  readonly digest: string;
  readonly content: FeatureContent;
  /** From the manifest annotation, else from the layer's `devcontainer-feature.json`; undefined when neither parses. */
  readonly metadata?: FeatureMetadata;
}

/**
 * The feature stored at `<repository>:<reference>`, or undefined when there is none.
 * @throws FeatureArtifactError when the manifest is not a devcontainer feature
 */
export async function readPublishedFeature(registry: Registry, repository: string, reference: string): Promise<PublishedFeature | undefined> {
  const stored = await registry.getManifest(repository, reference);
  return stored && publishedFeatureOf(registry, repository, stored, `${registry.host}/${repository}:${reference}`);
}

/**
 * The feature a manifest already read from `repository` holds (its layer is read).
 * @param where how messages name the manifest
 * @throws FeatureArtifactError when the manifest is not a devcontainer feature
 */
export async function publishedFeatureOf(registry: Registry, repository: string, stored: StoredManifest, where: string): Promise<PublishedFeature> {
  const parsed = parseManifest(stored, where);
  if (parsed.kind !== 'image') throw new FeatureArtifactError(`${where} is an image index, not a devcontainer feature`);
  const layer = parsed.manifest.layers.find((l) => l.mediaType === DEVCONTAINER_ARTIFACT.featureLayerMediaType);
  if (!layer) {
    throw new FeatureArtifactError(
      `${where} has no '${DEVCONTAINER_ARTIFACT.featureLayerMediaType}' layer: it is not a devcontainer feature (was something else pushed to this repository?)`,
    );
  }
  const content = featureContentFromTar(await registry.getBlob(repository, layer.digest), `the layer of ${where}`);
  return { digest: stored.digest, content, metadata: metadataOf(parsed.manifest.annotations, content) };
}

function metadataOf(annotations: Readonly<Record<string, string>> | undefined, content: FeatureContent): FeatureMetadata | undefined {
  const candidates = [
    annotations?.[DEVCONTAINER_ARTIFACT.metadataAnnotation],
    content.get(FEATURE_METADATA_FILE) && Buffer.from(content.get(FEATURE_METADATA_FILE)!.data).toString('utf8'),
  ];
  for (const text of candidates) {
    if (text === undefined) continue;
    const { value } = parseJsonc(text);
    if (value && typeof value.id === 'string' && typeof value.version === 'string') return value as FeatureMetadata;
  }
  return undefined;
}
