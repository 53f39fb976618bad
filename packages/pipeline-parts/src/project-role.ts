import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { type IWarehouse, acknowledgeResourceWildcard, artifactPrefix } from '@devcontainer-factory/warehouse';

export interface ArtifactReaderRoleOptions {
  readonly warehouse: IWarehouse;
  /** The pipeline whose input artifacts the projects read. */
  readonly pipelineName: string;
  /** Where the projects log. */
  readonly logGroup: logs.ILogGroup;
}

/**
 * The role to give a pipeline's CodeBuild projects that read their input artifact and
 * write none (Build pushes to ECR, Test and Publish write nothing to S3).
 *
 * CDK's CodeBuild project and action grant their defaults to the role they are given:
 * read of the whole artifact bucket, encrypt and decrypt with the artifact key, the
 * project's default log group and report groups. This grants `role` exactly what such a
 * project uses: read of this pipeline's artifact prefix, decrypt with the S3 key, write to
 * `logGroup`; and returns the view of `role` to pass to the projects, which takes no
 * further grants. ECR and other grants go on `role` itself.
 */
export function artifactReaderRole(role: iam.Role, options: ArtifactReaderRoleOptions): iam.IRole {
  const { warehouse, pipelineName, logGroup } = options;
  warehouse.grantReadArtifacts(role, pipelineName);
  logGroup.grantWrite(role);
  acknowledgeResourceWildcard(
    role,
    warehouse.artifactBucket.arnForObjects(`${artifactPrefix(pipelineName)}/*`),
    `the input artifacts of pipeline ${pipelineName}: CodePipeline names each object per execution under this prefix (the first 20 characters of the pipeline name)`,
  );
  return role.withoutPolicyUpdates();
}
