/**
 * The collection metadata of a namespace: `devcontainer-collection.json` in
 * `<ns>/features:latest`, which tools read to list the features a registry
 * offers. `devcontainer features publish` writes it with only the features of the
 * folder it publishes, one feature per pipeline here, so each publish would drop
 * the others. The factory rewrites it after every publish from the registry
 * itself: every feature that was listed before or was just published, and still
 * has a `latest` tag, with the metadata of that `latest` version.
 */
import { featureCollectionRepositoryName, repositoryName, validateNamespace } from '../naming';
import { MEDIA_TYPES, RegistryError, type Registry } from '../oci/registry';
import { parseManifest } from '../oci/manifest';
import { DEVCONTAINER_ARTIFACT, readPublishedFeature } from './feature-artifact';
import { canonicalJson } from './private/canonical-json';
import type { FeatureMetadata } from './validate-feature';
import { parseJsonc } from '../config/devcontainer-json';

/** The content of `devcontainer-collection.json`. */
export interface FeatureCollection {
  readonly sourceInformation?: Readonly<Record<string, unknown>>;
  readonly features: readonly FeatureMetadata[];
}

/** A registry the factory can push the collection to: it also uploads blobs (an `OciRegistry`). */
export interface CollectionRegistry extends Registry {
  pushBlob(repository: string, bytes: Uint8Array): Promise<{ digest: string; size: number }>;
}

/** Where the collection says it comes from. */
export const COLLECTION_SOURCE = { source: 'devcontainer-factory' } as const;

/**
 * The collection stored in `<ns>/features:latest`, or undefined when there is none.
 * @throws RegistryError when the tag holds something that is not a collection
 */
export async function readFeatureCollection(registry: Registry, namespace: string): Promise<FeatureCollection | undefined> {
  const repository = featureCollectionRepositoryName(namespace);
  const where = `${registry.host}/${repository}:latest`;
  const stored = await registry.getManifest(repository, 'latest');
  if (!stored) return undefined;
  const parsed = parseManifest(stored, where);
  const layer = parsed.kind === 'image' ? parsed.manifest.layers.find((l) => l.mediaType === DEVCONTAINER_ARTIFACT.collectionLayerMediaType) : undefined;
  if (!layer) throw new RegistryError(`${where} has no '${DEVCONTAINER_ARTIFACT.collectionLayerMediaType}' layer: it is not a feature collection`);
  const text = (await registry.getBlob(repository, layer.digest)).toString('utf8');
  const { value } = parseJsonc(text);
  if (!value || !Array.isArray(value.features)) throw new RegistryError(`${where}: ${DEVCONTAINER_ARTIFACT.collectionFileName} has no "features" list`);
  return {
    sourceInformation: value.sourceInformation as Record<string, unknown> | undefined,
    features: (value.features as unknown[]).filter((f): f is FeatureMetadata => !!f && typeof (f as FeatureMetadata).id === 'string'),
  };
}

/** The metadata of `<ns>/features/<id>:latest`, or undefined when it has no `latest`. */
async function latestMetadata(registry: Registry, namespace: string, id: string): Promise<FeatureMetadata | undefined> {
  const repository = repositoryName(namespace, 'feature', id);
  const stored = await registry.getManifest(repository, 'latest');
  if (!stored) return undefined;
  const parsed = parseManifest(stored, `${registry.host}/${repository}:latest`);
  const annotation = parsed.kind === 'image' ? parsed.manifest.annotations?.[DEVCONTAINER_ARTIFACT.metadataAnnotation] : undefined;
  const fromAnnotation = annotation ? parseJsonc(annotation).value : undefined;
  if (fromAnnotation && typeof fromAnnotation.id === 'string') return fromAnnotation as FeatureMetadata;
  return (await readPublishedFeature(registry, repository, 'latest'))?.metadata;
}

/** The collection of the given features as the registry holds them: each one's `latest` metadata, sorted by id; features without `latest` are left out. */
export async function collectFeatures(registry: Registry, namespace: string, ids: Iterable<string>): Promise<FeatureCollection> {
  const features: FeatureMetadata[] = [];
  for (const id of [...new Set(ids)].sort()) {
    const metadata = await latestMetadata(registry, namespace, id);
    if (metadata) features.push(metadata);
  }
  return { sourceInformation: COLLECTION_SOURCE, features };
}

export interface PublishFeatureCollectionProps {
  readonly registry: CollectionRegistry;
  readonly namespace: string;
  /**
   * Features to list besides those the collection lists now: the one just
   * published, and those listed before the devcontainer CLI replaced the
   * collection with one that lists only its own features.
   */
  readonly featureIds: readonly string[];
}

export interface PublishedCollection {
  /** False when the registry already held exactly this collection. */
  readonly pushed: boolean;
  /** Digest of the collection's manifest. */
  readonly digest: string;
  /** Ids of the features it lists. */
  readonly features: readonly string[];
}

/** The bytes of `devcontainer-collection.json`, formatted as the devcontainer CLI writes it. */
export function collectionFileBytes(collection: FeatureCollection): Buffer {
  return Buffer.from(JSON.stringify({ sourceInformation: collection.sourceInformation ?? COLLECTION_SOURCE, features: collection.features }, null, 4));
}

/**
 * Rewrites `<ns>/features:latest` so that it lists every published feature of the
 * namespace; pushes nothing when the registry already holds that list.
 */
export async function publishFeatureCollection(props: PublishFeatureCollectionProps): Promise<PublishedCollection> {
  validateNamespace(props.namespace);
  const { registry, namespace } = props;
  const repository = featureCollectionRepositoryName(namespace);
  const current = await readFeatureCollection(registry, namespace);
  const ids = (current?.features ?? []).map((f) => f.id).concat(props.featureIds);
  const collection = await collectFeatures(registry, namespace, ids);
  const listed = collection.features.map((f) => f.id);
  if (current && canonicalJson(sortById(current.features)) === canonicalJson(collection.features)) {
    const stored = await registry.getManifest(repository, 'latest');
    return { pushed: false, digest: stored!.digest, features: listed };
  }
  const config = await registry.pushBlob(repository, Buffer.from('{}'));
  const layer = await registry.pushBlob(repository, collectionFileBytes(collection));
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: DEVCONTAINER_ARTIFACT.configMediaType, ...config },
    layers: [
      {
        mediaType: DEVCONTAINER_ARTIFACT.collectionLayerMediaType,
        ...layer,
        annotations: { [DEVCONTAINER_ARTIFACT.titleAnnotation]: DEVCONTAINER_ARTIFACT.collectionFileName },
      },
    ],
  };
  const digest = await registry.putManifest(repository, 'latest', MEDIA_TYPES.ociManifest, Buffer.from(JSON.stringify(manifest)));
  return { pushed: true, digest, features: listed };
}

function sortById(features: readonly FeatureMetadata[]): FeatureMetadata[] {
  return [...features].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
