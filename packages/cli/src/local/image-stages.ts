/**
 * One image through the stages of the image pipeline, on this machine: validate,
 * pack, Prepare, Build (host platform), Manifest, Test, Release. Build, Manifest
 * and Test work in the staging repository `<ns>/builds/<id>`; Release promotes the
 * tested build into `<ns>/images/<id>`, as in the cloud, with the configuration zip
 * it was built from beside its index. Prepare, Manifest and Release are the functions
 * the Lambdas run; Build and Test are what CodeBuild runs, with podman and buildah
 * instead of Docker; Test runs the checks of the cloud Test stage (`IMAGE_CHECKS`, see local-image-checks.ts).
 */
import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  archTag,
  encodeInputRecord,
  formatSize,
  manifestImage,
  prepareImage,
  runReleaseStage,
  repositoryName,
  stagingRepositoryName,
  substituteFactoryVariables,
  runDevcontainer,
  writeZip,
  type ArchiveContent,
  type FactoryVariableValues,
  type ReferrerRegistry,
  formatVulnerabilityPolicy,
} from '@devcontainer-factory/core';
import type { ContainerEngine } from './container-engine';
import type { LocalImageEntry } from './local-catalog';
import { formatLocalChecks, runLocalImageChecks } from './local-image-checks';
import { SBOM_PLUGIN_PACKAGE, findSbomGenerator, generateLocalSbom, type SbomGenerator } from './local-sbom';
import { LocalStageError, StageRecorder, type LocalStageProps, type StageReport } from './local-stages';

export interface LocalImageProps extends LocalStageProps {
  readonly image: LocalImageEntry;
  readonly registry: ReferrerRegistry;
  readonly engine: ContainerEngine;
  /** The platform to build, `linux/amd64` or `linux/arm64`. */
  readonly platform: string;
  /** Folder for the unpacked configuration. */
  readonly workDir: string;
  /**
   * The SBOM generator; `false` for no SBOM stage.
   * @default - Trivy from cdxgen's binary plugins when installed ({@link findSbomGenerator}), else the stage is skipped and says why
   */
  readonly sbomGenerator?: SbomGenerator | false;
}

export interface LocalImageResult {
  readonly id: string;
  /** `released`: built, tested and tagged. `unchanged`: this build was released before; nothing was built. `failed`: see the stages. */
  readonly status: 'released' | 'unchanged' | 'failed';
  readonly repository: string;
  readonly buildId?: string;
  readonly version?: string;
  /** Digest of the released index. */
  readonly digest?: string;
  /** Release tags moved by this run. */
  readonly moved: readonly string[];
  /** Every release tag of the build. */
  readonly tags: readonly string[];
  /** Pull reference, `<host>/<ns>/images/<id>:latest` (or the first release tag). */
  readonly reference?: string;
  readonly stages: readonly StageReport[];
}

/** Replaces `${localEnv:DCF_REGISTRY}` and `${localEnv:DCF_NAMESPACE}` in a devcontainer.json in place. */
async function substituteConfigurationFile(path: string, values: FactoryVariableValues): Promise<void> {
  const text = await readFile(path, 'utf8');
  const substituted = substituteFactoryVariables(text, values).text;
  if (substituted !== text) await writeFile(path, substituted);
}

/** Writes an archive's files into `dir`, keeping the executable bit. */
export async function extractArchive(content: ArchiveContent, dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  for (const [path, data] of content.files) {
    const target = join(dir, ...path.split('/'));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, data);
    await chmod(target, content.executables.has(path) ? 0o755 : 0o644);
  }
}

/** Runs every stage of one image; never throws for a stage failure (the result says `failed`). */
export async function runLocalImage(props: LocalImageProps): Promise<LocalImageResult> {
  const { image, registry, engine } = props;
  const repository = repositoryName(props.namespace, 'image', image.id);
  // Built, assembled and tested in staging; Release promotes into `repository`, as in the cloud.
  const staging = stagingRepositoryName(props.namespace, image.id);
  const arch = props.platform.split('/')[1];
  const rec = new StageRecorder({ kind: 'image', id: image.id }, props.listener, props.now);
  const base = { id: image.id, repository, moved: [] as string[], tags: [] as string[] };
  let buildId: string | undefined;
  let version: string | undefined;
  try {
    const config = await rec.validate(image.dir, (loaded) => `${loaded.content.files.size} files, ${formatSize(loaded.size)}`);
    const zip = await rec.run('pack', async () => {
      const bytes = writeZip(config.content);
      return { value: bytes, detail: `${formatSize(bytes.length)} zip, sha256 ${createHash('sha256').update(bytes).digest('hex').slice(0, 12)}` };
    });
    const prepared = await rec.run('prepare', async () => {
      const p = await prepareImage(registry, {
        zip,
        repository,
        baseRepositories: image.dependsOn.map((d) => repositoryName(props.namespace, 'image', d)),
        namespace: props.namespace,
      });
      const inputs = p.inputs.length ? `, ${p.inputs.length} input${p.inputs.length > 1 ? 's' : ''}` : '';
      const why = p.released
        ? 'already released: nothing moved'
        : p.firstBuild
          ? 'not released yet'
          : `rebuilding: ${p.changes.join('; ') || 'a dependsOn base moved'}`;
      return { value: p, detail: `build ${p.buildId}, version ${p.source.version ?? '(none)'}${inputs}, ${why}` };
    });
    buildId = prepared.buildId;
    version = prepared.source.version;
    const skipped = image.platforms.filter((p) => p !== props.platform);
    if (prepared.released) {
      for (const stage of ['build', 'manifest', 'test', 'sbom']) rec.skip(stage, `build ${prepared.buildId} is already released`);
    } else {
      const srcDir = join(props.workDir, image.id);
      await extractArchive(config.content, srcDir);
      // The devcontainer CLI substitutes ${localEnv:…} in most values but not in feature ids: the
      // factory writes its registry and namespace into devcontainer.json itself, as Build does.
      await substituteConfigurationFile(join(srcDir, prepared.source.configPath), { registry: registry.host, namespace: props.namespace });
      const perArch = `${registry.host}/${staging}:${archTag(prepared.buildId, arch)}`;
      await rec.run('build', async () => {
        await runDevcontainer({ ...props.devcontainer, env: { ...props.devcontainer.env, ...engine.env } }, [
          'build',
          '--workspace-folder',
          srcDir,
          '--config',
          join(srcDir, prepared.source.configPath),
          '--docker-path',
          'podman',
          '--image-name',
          perArch,
        ]);
        // `devcontainer build --push` needs BuildKit; podman pushes what the devcontainer CLI built.
        await engine.run('podman', ['push', '--quiet', '--tls-verify=false', perArch]);
        const pushed = await registry.getManifest(staging, archTag(prepared.buildId, arch));
        if (!pushed) throw new LocalStageError(`the devcontainer CLI reported success but ${perArch} is not in the registry`);
        const note = skipped.length ? `; ${skipped.map((p) => `${p} skipped: no emulation`).join(', ')}` : '';
        return { value: pushed, detail: `${props.platform} → ${perArch} (${pushed.digest.slice(0, 19)})${note}` };
      });
      // The Manifest action's function: the index, and the zip it was built from beside it (Release promotes both).
      await rec.run('manifest', async () => {
        const manifested = await manifestImage(registry, {
          repository: staging,
          buildId: prepared.buildId,
          platforms: [props.platform],
          inputs: encodeInputRecord(prepared.record),
          configuration: zip,
        });
        const { index, configuration } = manifested;
        return {
          value: manifested,
          detail: `index ${registry.host}/${staging}:${prepared.buildId} (${index.digest.slice(0, 19)}) over ${props.platform}, configuration kept beside it (${configuration.digest.slice(0, 19)})`,
        };
      });
      // The checks of the cloud Test stage (IMAGE_CHECKS), each said to have run differently or not at all where this machine cannot do what CodeBuild does.
      await rec.run('test', async () => {
        const results = await runLocalImageChecks({
          registry,
          engine,
          platform: props.platform,
          repository: staging,
          buildId: prepared.buildId,
          srcDir,
          hasTests: prepared.source.hasTests,
        });
        return { value: results, detail: formatLocalChecks(props.platform, results) };
      });
      // The SBOM of the tested image, stored beside it in staging; Release promotes it with the image.
      const generator = props.sbomGenerator === undefined ? findSbomGenerator() : props.sbomGenerator || undefined;
      if (!generator) {
        rec.skip('sbom', `no SBOM generator: install ${SBOM_PLUGIN_PACKAGE()} (an optional dependency of dcf), or set DCF_SBOM_TRIVY to a trivy binary`);
      } else {
        await rec.run('sbom', async () => {
          const sbom = await generateLocalSbom({
            registry,
            engine,
            platform: props.platform,
            repository: staging,
            buildId: prepared.buildId,
            generator,
            now: new Date(props.now()),
          });
          const counts = `${sbom.packages} package${sbom.packages === 1 ? '' : 's'}, ${sbom.bases} base${sbom.bases === 1 ? '' : 's'}, ${sbom.features} feature${sbom.features === 1 ? '' : 's'}`;
          return { value: sbom, detail: `${props.platform}: ${counts}, by ${generator.name} → referrer ${sbom.referrer.digest.slice(0, 19)} in ${staging}` };
        });
      }
    }
    const released = await rec.run('release', async () => {
      const { result, detail } = await runReleaseStage(registry, {
        repository,
        staging,
        buildId: prepared.buildId,
        version: prepared.source.version,
        rules: image.releaseTags,
        now: new Date(props.now()),
        // This machine has no vulnerability database: the gate's rules run in the cloud, on ECR's scan of staging.
        gateOff: `vulnerability gate skipped: dcf local has no scanner (in the cloud Release reads ECR's scan of staging; policy: ${formatVulnerabilityPolicy(image.vulnerabilities)})`,
      });
      return { value: result, detail };
    });
    const tag = released.tags.includes('latest') ? 'latest' : released.tags[0];
    return {
      ...base,
      status: prepared.released ? 'unchanged' : 'released',
      buildId,
      version,
      digest: released.digest,
      moved: released.moved,
      tags: released.tags,
      reference: tag ? `${registry.host}/${repository}:${tag}` : `${registry.host}/${repository}@${released.digest}`,
      stages: rec.stages,
    };
  } catch (e) {
    if (!rec.failed) throw e;
    return { ...base, status: 'failed', buildId, version, stages: rec.stages };
  }
}
