/**
 * cdk-nag (v3, `Validations`) acknowledgements shared by the factory's constructs.
 * IAM5 acknowledgements name one exact finding (an action or a resource), so any
 * other wildcard still fails synthesis.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { refuseCdkNag2, requireAwsCdkLib } from './cdk-requirements';
import type { IWarehouse } from './warehouse-interface';

/** Acknowledges one AwsSolutions rule (or one finding of it) on a construct and everything under it, with the reason. */
export function acknowledgeNag(scope: IConstruct, rule: string, reason: string, finding?: string): void {
  // Before Validations sees an id it may refuse, and once per stack: the CDK and cdk-nag these acknowledgements need.
  requireAwsCdkLib();
  refuseCdkNag2(scope);
  Validations.of(scope).acknowledge({ id: `AwsSolutions::AwsSolutions-${rule}${finding ? `[${finding}]` : ''}`, reason });
}

/**
 * A CloudFormation value written the way cdk-nag writes it in findings: `Ref` and
 * `${X}` of `Fn::Sub` as `<Id>`, `GetAtt` as `<Id.Attr>`. Resolving it in the
 * stack keeps it right whatever the stack's environment and feature flags (e.g.
 * partition literals).
 */
export function nagText(scope: IConstruct, value: unknown): string {
  const visit = (node: unknown): string => {
    if (node === undefined) return '';
    if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
    const o = node as Record<string, unknown>;
    if (o['Fn::Join']) {
      const [delimiter, items] = o['Fn::Join'] as [string, unknown[]];
      return items.map(visit).join(delimiter);
    }
    if (o['Fn::GetAtt']) {
      const [resource, attribute] = o['Fn::GetAtt'] as [unknown, unknown];
      return `<${visit(resource)}.${visit(attribute)}>`;
    }
    if (o.Ref !== undefined) return `<${visit(o.Ref)}>`;
    if (typeof o['Fn::Sub'] === 'string') return visit(o['Fn::Sub']);
    return JSON.stringify(node);
  };
  return visit(Stack.of(scope).resolve(value));
}

/** Acknowledges the wildcard resource finding of a grant on `resourceArn`. */
export function acknowledgeResourceWildcard(scope: IConstruct, resourceArn: string, reason: string): void {
  acknowledgeNag(scope, 'IAM5', reason, `Resource::${nagText(scope, resourceArn)}`);
}

/** Reasons that several of the factory's constructs give, written once. */
export const NAG_REASONS = {
  ecrAuth: 'ecr:GetAuthorizationToken is registry-wide: ECR allows no resource narrower than *',
  artifactObjects:
    "CodePipeline's artifact bucket of the namespace: object keys are generated per execution, so the grant covers every object under the pipeline's prefix (the first 20 characters of its name)",
  s3GrantActions:
    "CDK's standard S3 read (and, for the pipeline, write) grant on the artifact bucket, the one source object and any file asset the stage reads",
  kmsGrantActions: "CDK's standard KMS grant, on the warehouse's S3 key only (artifacts are encrypted with it)",
} as const;

/** The S3 actions of CDK's read grant on a bucket (a file asset the stage reads). */
export const ARTIFACT_READ_ACTIONS: readonly string[] = ['s3:GetObject*', 's3:GetBucket*', 's3:List*'];

/** The S3 actions of CDK's read-write grant, as a pipeline's own role gets on its artifact bucket. */
export const ARTIFACT_READ_WRITE_ACTIONS: readonly string[] = [...ARTIFACT_READ_ACTIONS, 's3:DeleteObject*', 's3:Abort*'];

/** Acknowledges the `Resource::*` finding of `ecr:GetAuthorizationToken`, which every pull or push grant adds. */
export function acknowledgeRegistryLogin(role: IConstruct): void {
  acknowledgeNag(role, 'IAM5', NAG_REASONS.ecrAuth, 'Resource::*');
}

/** The wildcard findings of CDK's grants on the warehouse's artifact bucket and its KMS key. */
export function acknowledgeArtifactAccess(
  role: IConstruct,
  warehouse: IWarehouse,
  actions: readonly string[] = ARTIFACT_READ_ACTIONS,
  objectsKeyPattern = '*',
): void {
  acknowledgeResourceWildcard(role, warehouse.artifactBucket.arnForObjects(objectsKeyPattern), NAG_REASONS.artifactObjects);
  for (const action of actions) acknowledgeNag(role, 'IAM5', NAG_REASONS.s3GrantActions, `Action::${action}`);
  for (const action of ['kms:ReEncrypt*', 'kms:GenerateDataKey*']) acknowledgeNag(role, 'IAM5', NAG_REASONS.kmsGrantActions, `Action::${action}`);
}
