import type { VulnerabilityPolicy } from '@devcontainer-factory/core';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { IWarehouse } from '@devcontainer-factory/warehouse';
import type { ComputeSize, PlatformName, ReleaseTagRule } from '../image-pipeline-options';

/** What every stage of one image pipeline is built from: validated props and shared resources. */
export interface StageContext {
  readonly scope: Construct;
  readonly warehouse: IWarehouse;
  /** The pipeline's name, `<ns>-image-<id>`: its artifacts are under its first 20 characters. */
  readonly pipelineName: string;
  /** `<ns>/images/<id>`: the release repository, written only by Release. */
  readonly repository: string;
  /** `<ns>/builds/<id>`: where Build pushes, Manifest assembles and Test pulls. */
  readonly stagingRepository: string;
  /** `<ns>/images/<base>` of each `dependsOn`. */
  readonly baseRepositories: readonly string[];
  /** `<ns>/features/<feature>` of each `usesFeatures`: the devcontainer CLI pulls them in Build. */
  readonly featureRepositories: readonly string[];
  /** Repository prefixes of the pull-through cache rules Build may pull through (`ecrPublicCachePrefix`, `pullThroughCachePrefixes`). */
  readonly pullThroughPrefixes: readonly string[];
  readonly platforms: readonly PlatformName[];
  readonly computeSize: ComputeSize;
  readonly releaseTags: readonly ReleaseTagRule[];
  readonly devcontainerCliVersion: string;
  /** The npm integrity of its tarball; absent for core's pinned version. */
  readonly devcontainerCliIntegrity?: string;
  /** The BuildKit image of the Build projects' builder. */
  readonly buildkitImage: string;
  /** The prefix of the Docker Hub pull-through cache Build sends `docker.io` pulls through; absent without one. */
  readonly dockerHubCachePrefix?: string;
  /** Where the pipeline's Lambdas and CodeBuild projects log. */
  readonly logGroup: logs.ILogGroup;
  /** The uploaded configuration zip. */
  readonly source: codepipeline.Artifact;
  /** The vulnerability gate of Release, when staging is scanned. */
  readonly vulnerabilityGate?: ResolvedVulnerabilityGate;
  /** Concurrent executions reserved for the Release function, when asked for. */
  readonly releaseReservedConcurrency?: number;
}

/** {@link VulnerabilityGateProps} with the defaults filled in. */
export interface ResolvedVulnerabilityGate {
  readonly policy: VulnerabilityPolicy;
  readonly maxWaitSeconds: number;
  readonly enhancedScanning: boolean;
}

/** The variables of the Prepare action, as `#{Prepare.X}` expressions for later actions, and its output artifact. */
export interface PrepareOutputs {
  readonly buildId: string;
  readonly version: string;
  readonly released: string;
  /**
   * Prepare's output artifact: the build's input record (`inputsArtifactBytes`), for Manifest's
   * index annotation and Build's SBOMs. It grows with the configuration's inputs past what a
   * configuration value holds (1,000 characters), so it is no variable.
   */
  readonly inputsArtifact: codepipeline.Artifact;
}
