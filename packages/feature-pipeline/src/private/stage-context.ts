import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import type { Construct } from 'constructs';
import type { IWarehouse } from '@devcontainer-factory/warehouse';
import type { FeatureComputeSize } from '../feature-pipeline-options';

/** What both stages of one feature pipeline are built from: validated props and shared resources. */
export interface StageContext {
  readonly scope: Construct;
  readonly warehouse: IWarehouse;
  readonly featureId: string;
  /** The pipeline's name, `<ns>-feature-<id>`: its artifacts are under its first 20 characters. */
  readonly pipelineName: string;
  /** `<ns>/features/<id>`. */
  readonly repository: string;
  /** `<ns>/features`, where the collection metadata lives. */
  readonly collectionRepository: string;
  readonly computeSize: FeatureComputeSize;
  readonly devcontainerCliVersion: string;
  /** The npm integrity of its tarball; absent for core's pinned version. */
  readonly devcontainerCliIntegrity?: string;
  /** Where the CodeBuild projects log. */
  readonly logGroup: logs.ILogGroup;
  /** The uploaded feature zip (CodeBuild extracts it into its source folder). */
  readonly source: codepipeline.Artifact;
  /** The feature tool bundle (`index.js`), an S3 file asset. */
  readonly tool: s3assets.Asset;
}
