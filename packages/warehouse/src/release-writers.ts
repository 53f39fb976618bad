import type { ArtifactKind } from '@devcontainer-factory/core';

/**
 * The IAM path of the roles that may write a namespace's release repositories of a
 * kind: `/devcontainer-factory/<ns>/image-release/` for the Release functions of the
 * image pipelines (`<ns>/images/<id>`), `/devcontainer-factory/<ns>/feature-publish/`
 * for the Publish projects of the feature pipelines (`<ns>/features/<id>`).
 *
 * The repository policy of the warehouse's creation templates denies every push to those
 * repositories (`ecr:PutImage` and the layer uploads) to any role outside the path, so a
 * pipeline that writes them gives its writer role this path. A path is part of the role's
 * ARN (what `aws:PrincipalArn` matches) and cannot change after the role is created;
 * creating a role under it takes `iam:CreateRole` on that path, which the account's own
 * IAM policies can keep to the deployment role.
 */
export function releaseWriterRolePath(namespace: string, kind: ArtifactKind): string {
  return `/devcontainer-factory/${namespace}/${kind === 'image' ? 'image-release' : 'feature-publish'}/`;
}
