/**
 * One step that `dcf local` and the cloud Build share: the SBOM of a per-arch image
 * whose root file system is at hand (a buildah mount, or `docker export` on CodeBuild),
 * made by the generator, completed with what the factory knows (`composeImageSbom`) and
 * stored beside the image as an OCI 1.1 referrer, which promotion carries along.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResolvedInput } from '../image/build-inputs';
import type { Descriptor } from '../oci/manifest';
import { SBOM_ARTIFACT_TYPE, attachArtifact, type Referrer, type ReferrerRegistry } from '../oci/referrers';
import { composeImageSbom, parseGeneratedSbom, type CycloneDxBom } from './sbom';
import type { SbomGenerator } from '../process/sbom-generator';

/** The annotation of an SBOM referrer that names its generator. */
export const SBOM_GENERATOR_ANNOTATION = 'dev.devcontainer-factory.sbom.generator';

export interface StoreImageSbomProps {
  readonly registry: ReferrerRegistry;
  /** Where the image is, `<ns>/builds/<id>`. */
  readonly repository: string;
  readonly buildId: string;
  /** `linux/amd64` or `linux/arm64`. */
  readonly platform: string;
  /** The per-arch image manifest the SBOM is about (its `subject`). */
  readonly image: Descriptor;
  /** The build's bases and features, as Prepare resolved them. */
  readonly inputs: readonly ResolvedInput[];
  readonly generator: SbomGenerator;
  /** The image's root file system, extracted or mounted. */
  readonly rootfs: string;
  /** A folder for the generator's output and cache. */
  readonly workDir: string;
  readonly now: Date;
}

export interface ImageSbomResult {
  readonly referrer: Referrer;
  /** Packages listed (CycloneDX `library` components the generator found). */
  readonly packages: number;
  readonly bases: number;
  readonly features: number;
}

/** Counts what an SBOM lists: the generator's packages and the factory's inputs. */
function countSbom(os: CycloneDxBom, inputs: readonly ResolvedInput[]): Omit<ImageSbomResult, 'referrer'> {
  return {
    packages: (os.components ?? []).filter((c) => c.type === 'library').length,
    bases: inputs.filter((i) => i.kind === 'base').length,
    features: inputs.filter((i) => i.kind === 'feature').length,
  };
}

/**
 * Generates the SBOM of `image` from its root file system and stores it as a referrer of
 * the image in `repository`. The generator's document is checked in full
 * ({@link parseGeneratedSbom}) and the SBOM composed before the first registry write, so a
 * document the factory cannot use throws `SbomError` and stores nothing.
 */
export async function storeImageSbom(props: StoreImageSbomProps): Promise<ImageSbomResult> {
  const { registry, repository, image, generator, now } = props;
  const output = join(props.workDir, 'os.cdx.json');
  await generator.generate(props.rootfs, output, join(props.workDir, 'trivy-cache'));
  const os = parseGeneratedSbom(await readFile(output), generator.name);
  const bytes = composeImageSbom({
    subject: { host: registry.host, repository, buildId: props.buildId, platform: props.platform, digest: image.digest },
    inputs: props.inputs,
    os,
    now,
  });
  const referrer = await attachArtifact(registry, repository, image, {
    artifactType: SBOM_ARTIFACT_TYPE,
    mediaType: SBOM_ARTIFACT_TYPE,
    bytes,
    annotations: { 'org.opencontainers.image.created': now.toISOString(), [SBOM_GENERATOR_ANNOTATION]: generator.name },
  });
  return { referrer, ...countSbom(os, props.inputs) };
}
