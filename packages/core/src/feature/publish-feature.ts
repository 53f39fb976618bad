/**
 * The whole publish flow of one feature in one call, for `dcf local` and the
 * tests: validate, lay out, package with the devcontainer CLI, guard the version,
 * publish with the CLI, check the tags, rewrite the collection. CodeBuild runs
 * the same steps through the feature tool, one command per step.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArchiveContent } from '../archive/archive-content';
import { featureCollectionRepositoryName } from '../naming';
import { DEFAULT_RELEASE_LOCK, withRepositoryLock, type ReleaseLock } from '../oci/release-lock';
import { featureCollectionLayout, writeFeatureCollection } from './collection-layout';
import { runDevcontainer, type DevcontainerCli } from '../process/devcontainer-cli';
import { featureTarballName } from './feature-artifact';
import { featureContentFromTar } from './feature-content';
import type { CollectionRegistry } from './feature-collection';
import { completeFeaturePublish, parsePublishOutput, planFeaturePublish, type FeaturePublishPlan, type FeaturePublishResult } from './publish-plan';
import { readFeatureMetadata } from './validate-feature';

export interface PublishFeatureProps {
  /** The registry to publish to; its `host` is what the devcontainer CLI is given (`localhost:<port>` for a local registry). */
  readonly registry: CollectionRegistry;
  readonly namespace: string;
  /** The catalogue id; `id` in `devcontainer-feature.json` must equal it. */
  readonly id: string;
  /** The uploaded feature: `devcontainer-feature.json` and `install.sh` at the root, optional `test/`. */
  readonly upload: ArchiveContent;
  readonly devcontainer: DevcontainerCli;
  /**
   * Folder for the collection layout and the packaged feature.
   * @default - a new temp folder, removed afterwards
   */
  readonly workDir?: string;
  /**
   * Receives one line per step.
   * @default - silent
   */
  readonly log?: (line: string) => void;
  /**
   * Serialises publishes: held on the namespace's collection repository `<ns>/features`
   * (every publish rewrites it, and every feature repository lies under it) from the
   * version guard to the collection, so a second publish of the same version sees
   * the first one and is refused instead of overwriting it.
   * @default - a {@link FileReleaseLock}, shared by every process of this machine
   */
  readonly lock?: ReleaseLock;
}

/** Layout and packaging of a feature in a work folder: `collection/` and `package/`. */
export interface PackagedFeature {
  readonly collectionDir: string;
  readonly version: string;
  readonly tarball: string;
}

/**
 * Validates the upload, lays it out in `<workDir>/collection` and packages it with
 * `devcontainer features package` into `<workDir>/package`.
 * @throws InvalidConfigurationError when the feature is not valid (nothing is written)
 */
export async function packageFeature(
  props: Pick<PublishFeatureProps, 'id' | 'upload' | 'devcontainer'> & { readonly workDir: string },
): Promise<PackagedFeature> {
  const metadata = readFeatureMetadata(props.upload.files, { expectedId: props.id });
  const layout = featureCollectionLayout(props.id, props.upload);
  const collectionDir = join(props.workDir, 'collection');
  const packageDir = join(props.workDir, 'package');
  await rm(collectionDir, { recursive: true, force: true });
  await writeFeatureCollection(collectionDir, layout);
  await runDevcontainer(props.devcontainer, ['features', 'package', join(collectionDir, 'src'), '--output-folder', packageDir, '--force-clean-output-folder']);
  return { collectionDir, version: metadata.version, tarball: join(packageDir, featureTarballName(props.id)) };
}

/**
 * Publishes one feature version, or nothing when that version is already
 * published with the same content.
 * @throws InvalidConfigurationError when the feature is not valid
 * @throws FeatureVersionConflictError when the version is published with other content (the registry is left as it was)
 * @throws FeatureTagRaceError when a tag read back after publishing points elsewhere (another writer won)
 */
export async function publishFeature(props: PublishFeatureProps): Promise<FeaturePublishResult> {
  const log = props.log ?? (() => undefined);
  const workDir = props.workDir ?? (await mkdtemp(join(tmpdir(), 'dcf-feature-')));
  try {
    const packaged = await packageFeature({ ...props, workDir });
    const packagedContent = featureContentFromTar(await readFile(packaged.tarball), packaged.tarball);
    return await withRepositoryLock(props.lock ?? DEFAULT_RELEASE_LOCK, props.registry.host, featureCollectionRepositoryName(props.namespace), async () => {
      // Planned under the lock: a publish that finished meanwhile is seen by the version guard.
      const plan: FeaturePublishPlan = await planFeaturePublish({
        registry: props.registry,
        namespace: props.namespace,
        id: props.id,
        version: packaged.version,
        packaged: packagedContent,
      });
      let cliResult;
      if (plan.action === 'publish') {
        log(`publishing ${props.id} ${plan.version} (tags ${plan.tags.join(', ')})`);
        const stdout = await runDevcontainer(props.devcontainer, [
          'features',
          'publish',
          '--registry',
          props.registry.host,
          '--namespace',
          featureCollectionRepositoryName(props.namespace),
          join(packaged.collectionDir, 'src'),
        ]);
        cliResult = parsePublishOutput(stdout, props.id);
      } else {
        log(`${props.id} ${plan.version} is already published with this content: nothing to push`);
      }
      const result = await completeFeaturePublish({ registry: props.registry, plan, cliResult });
      log(`collection ${result.collection.pushed ? 'updated' : 'unchanged'}: ${result.collection.features.join(', ')}`);
      return result;
    });
  } finally {
    if (!props.workDir) await rm(workDir, { recursive: true, force: true });
  }
}
