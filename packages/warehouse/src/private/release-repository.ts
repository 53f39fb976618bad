import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/**
 * What only a release writer may do on a release repository: upload layers and put
 * manifests, the calls that add content or point a tag at it (a blob mount from staging
 * is an upload too).
 */
export const ECR_RELEASE_WRITE_ACTIONS = ['ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage'] as const;

/**
 * The tag mutability of the repositories users pull from (`<ns>/images/<id>`,
 * `<ns>/features/<id>`): every tag may move except those that match `*.*.*`, which ECR
 * refuses to overwrite (`ImageTagAlreadyExistsException`) once they exist.
 *
 * What ECR enforces with it: a tag with two or more dots never moves. In the factory's
 * tag vocabulary that is exactly the version tag `X.Y.Z` (and `X.Y.Z-pre.N`) of a
 * release or a feature. An ECR wildcard cannot say "three dot-separated numbers", so any
 * other tag with two dots would be immutable too; the factory pushes none.
 *
 * What stays movable, and why:
 * - `X.Y`, `X`, `latest` and the date tag `YYYYMMDD`: Release moves them to the newest
 *   release (the devcontainer CLI moves `X.Y`, `X` and `latest` of a feature).
 * - the build tags `<build>` (16 hex digits, which no wildcard tells apart from `X` or a
 *   date) and `<build>-<arch>` (which `*-amd64` could match): promotion puts them again,
 *   with other bytes, when a build whose promotion went through but whose tags did not (a
 *   Release that failed or timed out after promoting) is rebuilt under the same build id.
 * - the referrers fallback tag `sha256-<hex>`, rewritten whenever a referrer is added.
 *
 * What it cannot enforce: deleting an image frees its tags, so whoever may
 * `ecr:BatchDeleteImage` (Retention, which never deletes an `X.Y.Z`, or an administrator)
 * can remove a version that Release could then tag again. And a creation template applies
 * to repositories it creates: repositories created before keep their own settings.
 */
export const RELEASE_TAG_MUTABILITY = 'MUTABLE_WITH_EXCLUSION';

/** The tags {@link RELEASE_TAG_MUTABILITY} keeps immutable. */
export const IMMUTABLE_RELEASE_TAG_FILTERS: readonly ecr.CfnRepositoryCreationTemplate.ImageTagMutabilityExclusionFilterProperty[] = [
  { imageTagMutabilityExclusionFilterType: 'WILDCARD', imageTagMutabilityExclusionFilterValue: '*.*.*' },
];

/**
 * The repository policy of the repositories users pull from: a push (`ecr:PutImage`, a
 * layer upload) by any IAM principal whose role is not under `writerRolePath` (see
 * `releaseWriterRolePath`) is denied, whatever that principal's own policies allow;
 * reads, deletes (Retention) and AWS services acting as themselves are left to IAM.
 */
export function releaseRepositoryPolicy(scope: IConstruct, writerRolePath: string): string {
  const stack = Stack.of(scope);
  const writers = stack.formatArn({
    service: 'iam',
    region: '',
    resource: 'role',
    resourceName: `${writerRolePath.replace(/^\//, '')}*`,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
  const document = new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({
        sid: 'OnlyReleaseWritersPush',
        effect: iam.Effect.DENY,
        principals: [new iam.StarPrincipal()],
        actions: [...ECR_RELEASE_WRITE_ACTIONS],
        conditions: { ArnNotLike: { 'aws:PrincipalArn': writers }, Bool: { 'aws:PrincipalIsAWSService': 'false' } },
      }),
    ],
  });
  return stack.toJsonString(document);
}
