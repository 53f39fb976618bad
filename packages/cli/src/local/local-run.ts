/**
 * `dcf local run` as a plain function: a catalogue through the factory's stages
 * against a local registry. Images go in build order (a base before the images
 * on it); an image whose base failed is not built. Features follow.
 */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OciRegistry, factoryEnvironment, repositoryName, type DevcontainerCli } from '@devcontainer-factory/core';
import { onInterrupt } from '../private/interrupt-cleanup';
import { ContainerEngine } from './container-engine';
import { runLocalFeature, type LocalFeatureResult } from './feature-stages';
import { runLocalImage, type LocalImageResult } from './image-stages';
import type { LocalCatalog } from './local-catalog';
import type { StageListener } from './local-stages';
import { ensureUpstreamImage, type UpstreamImage } from './upstream-image';

export interface LocalRunProps {
  readonly catalog: LocalCatalog;
  /** The registry, `localhost:<port>`. */
  readonly registryHost: string;
  readonly devcontainer: DevcontainerCli;
  /** The platform to build: the host's. */
  readonly platform: string;
  readonly listener: StageListener;
  /** @default Date.now */
  readonly now?: () => number;
  /**
   * Receives a line about what happens outside the stages (the upstream image).
   * @default - silent
   */
  readonly log?: (line: string) => void;
}

export interface LocalRunResult {
  readonly registry: string;
  readonly namespace: string;
  readonly platform: string;
  readonly upstream?: UpstreamImage;
  readonly images: readonly LocalImageResult[];
  readonly features: readonly LocalFeatureResult[];
  /** True when every image and feature went through. */
  readonly ok: boolean;
}

export async function runLocalCatalog(props: LocalRunProps): Promise<LocalRunResult> {
  const now = props.now ?? Date.now;
  const { catalog } = props;
  const registry = new OciRegistry({ host: props.registryHost });
  // Created and registered in one step, so that a signal cannot fall between the two.
  const workDir = mkdtempSync(join(tmpdir(), 'dcf-local-'));
  // Interrupted: the registry stops at the same time, so the stages fail and this run unwinds through its own
  // clean-up below; wait for that (a tool may still be writing into the folder), then remove the folder in any case.
  let finished: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const forget = onInterrupt(async () => {
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
    await rm(workDir, { recursive: true, force: true, maxRetries: 3 });
  });
  let engine: ContainerEngine;
  try {
    engine = await ContainerEngine.create({ registryHost: props.registryHost, workDir: join(workDir, 'engine') });
  } catch (e) {
    await rm(workDir, { recursive: true, force: true });
    finished();
    forget();
    throw e;
  }
  // The devcontainer CLI reads DCF_REGISTRY and DCF_NAMESPACE through ${localEnv:…} (see FACTORY_VARIABLES).
  const devcontainer: DevcontainerCli = {
    ...props.devcontainer,
    env: { ...props.devcontainer.env, ...factoryEnvironment({ registry: props.registryHost, namespace: catalog.namespace }) },
  };
  try {
    let upstream: UpstreamImage | undefined;
    if (catalog.images.length > 0) {
      upstream = await ensureUpstreamImage(engine, registry, catalog.namespace);
      props.log?.(`${upstream.created ? 'pushed' : 'reusing'} the offline upstream image ${upstream.reference} (Debian's busybox-static)`);
    }
    // Features first: an image of the catalogue may use one (built with the version just published).
    const features: LocalFeatureResult[] = [];
    for (const feature of catalog.features) {
      features.push(
        await runLocalFeature({
          feature,
          namespace: catalog.namespace,
          registry,
          devcontainer,
          workDir: join(workDir, 'features'),
          listener: props.listener,
          now,
        }),
      );
    }
    const images: LocalImageResult[] = [];
    for (const image of catalog.images) {
      const failedBase = image.dependsOn.find((d) => images.find((r) => r.id === d)?.status === 'failed');
      if (failedBase) {
        const report = { stage: 'prepare', status: 'skipped' as const, detail: `base image '${failedBase}' failed`, ms: 0 };
        props.listener({ kind: 'image', id: image.id }, report);
        images.push({
          id: image.id,
          status: 'failed',
          repository: repositoryName(catalog.namespace, 'image', image.id),
          moved: [],
          tags: [],
          stages: [report],
        });
        continue;
      }
      images.push(
        await runLocalImage({
          image,
          namespace: catalog.namespace,
          registry,
          engine,
          devcontainer,
          platform: props.platform,
          workDir: join(workDir, 'images'),
          listener: props.listener,
          now,
        }),
      );
    }
    const ok = images.every((i) => i.status !== 'failed') && features.every((f) => f.status !== 'failed');
    return { registry: props.registryHost, namespace: catalog.namespace, platform: props.platform, upstream, images, features, ok };
  } finally {
    await engine.dispose();
    await rm(workDir, { recursive: true, force: true });
    finished();
    forget();
  }
}
