import { propsError } from '@devcontainer-factory/core';
import { Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';
import { WarehousePropsError } from '../warehouse-props-error';
import { S3_SOURCE_OBJECT_CHANGE_ACTIONS } from './actions';

/** The statement of one source bucket's policy that keeps its configurations to the granted writers. */
interface WritersStatement {
  readonly statement: iam.PolicyStatement;
  /** `aws:PrincipalArn` of each granted writer, in the order granted. */
  readonly writers: string[];
  /** The object key patterns the statement covers. */
  readonly keyPatterns: Set<string>;
}

/** One statement per bucket, shared by every warehouse (or view of resources) over it. */
const statements = new WeakMap<s3.IBucket, WritersStatement>();

/** The `Sid` of the statement, as the bucket policy shows it. */
export const SOURCE_WRITERS_SID = 'OnlyGrantedPushersChangeConfigurations';

/**
 * Keeps the objects `keyPatterns` of `bucket` to the principals granted to write them: a
 * statement of the bucket's policy denies every change of them
 * ({@link S3_SOURCE_OBJECT_CHANGE_ACTIONS}) to every principal whose `aws:PrincipalArn` is
 * not a granted writer ({@link allowSourceWriter}), whatever its own policies allow; with no
 * writer granted, to everyone. It denies object changes only: the bucket itself (its policy
 * among it) stays with whoever manages it, so the deployment role, or an administrator, can
 * always change who may write. AWS services acting as themselves are denied too: none writes
 * configurations.
 *
 * @returns false when the bucket takes no statement (a bucket imported into the app)
 */
export function keepSourceToWriters(bucket: s3.IBucket, keyPatterns: readonly string[]): boolean {
  let entry = statements.get(bucket);
  if (!entry) {
    const statement = new iam.PolicyStatement({
      sid: SOURCE_WRITERS_SID,
      effect: iam.Effect.DENY,
      principals: [new iam.StarPrincipal()],
      actions: [...S3_SOURCE_OBJECT_CHANGE_ACTIONS],
      resources: keyPatterns.map((p) => bucket.arnForObjects(p)),
    });
    if (!bucket.addToResourcePolicy(statement).statementAdded) return false;
    entry = { statement, writers: [], keyPatterns: new Set(keyPatterns) };
    statements.set(bucket, entry);
  }
  for (const pattern of keyPatterns) {
    if (entry.keyPatterns.has(pattern)) continue;
    entry.keyPatterns.add(pattern);
    entry.statement.addResources(bucket.arnForObjects(pattern));
  }
  return true;
}

/** Whether {@link keepSourceToWriters} put its statement in the bucket's policy. */
export function keepsSourceToWriters(bucket: s3.IBucket): boolean {
  return statements.has(bucket);
}

/**
 * Lets the principal ARN `writer` through the statement of {@link keepSourceToWriters}.
 * @returns false when the bucket has no such statement
 */
export function allowSourceWriter(bucket: s3.IBucket, writer: string): boolean {
  const entry = statements.get(bucket);
  if (!entry) return false;
  if (!entry.writers.includes(writer)) {
    entry.writers.push(writer);
    // The same condition key again replaces the list: the statement names every writer once.
    entry.statement.addCondition('ArnNotLike', { 'aws:PrincipalArn': [...entry.writers] });
  }
  return true;
}

/** An IAM role or user ARN of a literal account, with its account; undefined for a token or anything else. */
const IAM_PRINCIPAL_ARN = /^arn:[a-z-]+:iam::(\d{12}):(?:role|user)\/[\w+=,.@/-]+$/;

/**
 * What `aws:PrincipalArn` is for the grantee's principal: a role's ARN (also for its
 * sessions, whatever their name) or a user's. Anything else (an account, a service, an
 * organization, a bare `ArnPrincipal`, a principal with conditions) has no such ARN whose
 * identity policies a grant could add to, and is refused with what to pass instead; so is a
 * role or user of another account than `scope`'s, whose upload the bucket's and key's
 * policies would have to allow as well.
 */
export function writerArnOf(scope: IConstruct, grantee: iam.IGrantable, method: string): string {
  const principal = grantee.grantPrincipal as iam.IPrincipal & { roleArn?: unknown; userArn?: unknown };
  const arn = typeof principal.roleArn === 'string' ? principal.roleArn : typeof principal.userArn === 'string' ? principal.userArn : undefined;
  if (arn === undefined) {
    throw propsError(
      scope.node.path,
      WarehousePropsError,
      `${method}: ${principal.toString()} is not an IAM role or user, so the source bucket's policy has no aws:PrincipalArn to let through and the grant no policy to add to: ` +
        "pass a role or a user, e.g. iam.Role.fromRoleArn(this, 'Pusher', 'arn:aws:iam::123456789012:role/platform-ci') or iam.User.fromUserArn(this, 'Pusher', 'arn:aws:iam::123456789012:user/alice')",
    );
  }
  const account = Token.isUnresolved(arn) ? undefined : IAM_PRINCIPAL_ARN.exec(arn)?.[1];
  const own = Stack.of(scope).account;
  if (account !== undefined && !Token.isUnresolved(own) && account !== own) {
    throw propsError(
      scope.node.path,
      WarehousePropsError,
      `${method}: ${arn} is of account ${account}, the warehouse of account ${own}: only roles and users of the warehouse's account can be granted to push (the source bucket's and the S3 key's policies would have to allow another account's)`,
    );
  }
  return arn;
}
