/**
 * One feature through the stages of the feature pipeline, on this machine:
 * validate, layout (and package), version guard, publish with the real
 * `devcontainer features publish`, collection metadata. The same functions as
 * `publishFeature` and the CodeBuild feature tool, one stage at a time.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  completeFeaturePublish,
  featureCollectionRepositoryName,
  featureContentFromTar,
  packageFeature,
  parsePublishOutput,
  planFeaturePublish,
  repositoryName,
  runDevcontainer,
  DEFAULT_RELEASE_LOCK,
  type CliPublishResult,
  type CollectionRegistry,
  type HeldReleaseLock,
  type ReleaseLock,
} from '@devcontainer-factory/core';
import type { LocalFeatureEntry } from './local-catalog';
import { StageRecorder, type LocalStageProps, type StageReport } from './local-stages';

export interface LocalFeatureProps extends LocalStageProps {
  readonly feature: LocalFeatureEntry;
  readonly registry: CollectionRegistry;
  /** Folder for the collection layout and the package. */
  readonly workDir: string;
  /**
   * Held on `<ns>/features` from the version guard to the collection, so that two
   * `dcf local run` publishing one version at once cannot both publish it.
   * @default - the machine-wide lock file of the registry host and `<ns>/features`
   */
  readonly releaseLock?: ReleaseLock;
}

export interface LocalFeatureResult {
  readonly id: string;
  /** `published`: a new version was pushed. `unchanged`: this version is published with this content. `failed`: see the stages. */
  readonly status: 'published' | 'unchanged' | 'failed';
  readonly version?: string;
  readonly digest?: string;
  /** Tags moved by this run. */
  readonly tags: readonly string[];
  /** What a devcontainer.json puts under `features`: `<host>/<ns>/features/<id>:<major>`. */
  readonly reference?: string;
  readonly stages: readonly StageReport[];
}

/** Runs every stage of one feature; never throws for a stage failure (the result says `failed`). */
export async function runLocalFeature(props: LocalFeatureProps): Promise<LocalFeatureResult> {
  const { feature, registry, namespace } = props;
  const rec = new StageRecorder({ kind: 'feature', id: feature.id }, props.listener, props.now);
  let version: string | undefined;
  let held: HeldReleaseLock | undefined;
  try {
    const config = await rec.validate(feature.dir, (loaded) => `${loaded.content.files.size} files`);
    const packaged = await rec.run('layout', async () => {
      const p = await packageFeature({ id: feature.id, upload: config.content, devcontainer: props.devcontainer, workDir: join(props.workDir, feature.id) });
      return { value: p, detail: `src/${feature.id} packaged as version ${p.version}` };
    });
    version = packaged.version;
    const plan = await rec.run('version guard', async () => {
      // Planned under the lock, held until the collection is rewritten: another publish sees this one.
      held = await (props.releaseLock ?? DEFAULT_RELEASE_LOCK).acquire(registry.host, featureCollectionRepositoryName(namespace));
      const p = await planFeaturePublish({
        registry,
        namespace,
        id: feature.id,
        version: packaged.version,
        packaged: featureContentFromTar(await readFile(packaged.tarball), packaged.tarball),
      });
      return {
        value: p,
        detail:
          p.action === 'publish'
            ? `${packaged.version} is new: will tag ${p.tags.join(', ')}`
            : `${packaged.version} is published with this content (${p.digest?.slice(0, 19)})`,
      };
    });
    let cliResult: CliPublishResult | undefined;
    if (plan.action === 'publish') {
      cliResult = await rec.run('publish', async () => {
        const stdout = await runDevcontainer(props.devcontainer, [
          'features',
          'publish',
          '--registry',
          registry.host,
          '--namespace',
          featureCollectionRepositoryName(namespace),
          join(packaged.collectionDir, 'src'),
        ]);
        const r = parsePublishOutput(stdout, feature.id);
        return {
          value: r,
          detail: `devcontainer features publish → ${registry.host}/${repositoryName(namespace, 'feature', feature.id)} (${r.publishedTags?.join(', ')})`,
        };
      });
    } else {
      rec.skip('publish', `version ${packaged.version} is already published with this content`);
    }
    const result = await rec.run('collection', async () => {
      const r = await completeFeaturePublish({ registry, plan, cliResult });
      return {
        value: r,
        detail: `${r.collection.pushed ? 'updated' : 'unchanged'}: ${registry.host}/${featureCollectionRepositoryName(namespace)} lists ${r.collection.features.join(', ')}`,
      };
    });
    const major = result.version.split('.')[0];
    return {
      id: feature.id,
      status: result.status,
      version: result.version,
      digest: result.digest,
      tags: result.tags,
      reference: `${registry.host}/${repositoryName(namespace, 'feature', feature.id)}:${major}`,
      stages: rec.stages,
    };
  } catch (e) {
    if (!rec.failed) throw e;
    return { id: feature.id, status: 'failed', version, tags: [], stages: rec.stages };
  } finally {
    await held?.release();
  }
}
