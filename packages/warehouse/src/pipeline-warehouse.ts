import { Aws, CfnRule, Fn, Stack, Token, TokenComparison, type IResource, type RemovalPolicy } from 'aws-cdk-lib';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { DEFAULT_NAMESPACE } from '@devcontainer-factory/core';
import { ArtifactBucket } from './artifact-bucket';
import { Warehouse } from './warehouse';
import type { IWarehouse } from './warehouse-interface';

/** What a pipeline construct was given to find its buckets, keys and registry; see {@link pipelineWarehouse}. */
export interface PipelineWarehouseOptions {
  /** The namespace's warehouse. */
  readonly warehouse?: IWarehouse;
  /** The namespace of names and parameters. @default 'devcontainers' (or the warehouse's) */
  readonly namespace?: string;
  /** The bucket configurations are uploaded to. */
  readonly sourceBucket?: s3.IBucket;
  /** The key of the source bucket's objects. @default - the source bucket's `encryptionKey` */
  readonly encryptionKey?: kms.IKey;
  /** CodePipeline's artifact store. @default - a new {@link ArtifactBucket}, encrypted with `encryptionKey` */
  readonly artifactBucket?: s3.IBucket;
  /** The SNS topic of the caller's that failures go to. @default - none: no failure is sent */
  readonly failureTopic?: sns.ITopic;
  /** Repositories of the caller's that grants go to by their own ARN. @default - none */
  readonly repositories?: ecr.IRepository[];
  /** The other own-resource props the pipeline was given (e.g. `{ repository }`), checked and named like the ones above. @default - none */
  readonly otherResources?: Record<string, unknown>;
  /** Removal policy of the artifact bucket it creates. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** The own resources the pipeline needs at least, as the error for neither says them. @default 'sourceBucket (with encryptionKey unless the bucket has one)' */
  readonly requiredResources?: string;
  /** Makes the pipeline's props error of a message. */
  readonly error: (message: string) => Error;
}

/**
 * The warehouse a pipeline construct works with: the `warehouse` it was given, or a
 * view over resources of the caller's (`Warehouse.fromWarehouseAttributes`, which
 * switches on EventBridge notifications of a source bucket of the app and warns for an
 * imported one), with an artifact bucket created when none is given. Both, or neither,
 * is an error that names `scope` and says what to pass.
 */
export function pipelineWarehouse(scope: Construct, options: PipelineWarehouseOptions): IWarehouse {
  const { warehouse, error } = options;
  const path = scope.node.path;
  const resources: Record<string, unknown> = {
    sourceBucket: options.sourceBucket,
    encryptionKey: options.encryptionKey,
    artifactBucket: options.artifactBucket,
    failureTopic: options.failureTopic,
    ...options.otherResources,
  };
  const given = Object.keys(resources).filter((name) => resources[name] !== undefined);
  requireThisEnvironment(scope, { ...resources, ...Object.fromEntries((options.repositories ?? []).map((r, i) => [`repositories[${i}]`, r])) }, error);
  if (warehouse) {
    if (given.length) {
      throw error(`${path}: both warehouse and ${given.join(', ')} are given: pass either a warehouse or your own resources (sourceBucket, …), not both`);
    }
    if (options.namespace !== undefined && options.namespace !== warehouse.namespace) {
      throw error(
        `${path}: namespace '${options.namespace}' differs from the warehouse's namespace '${warehouse.namespace}': leave namespace out, or pass the warehouse of that namespace`,
      );
    }
    return warehouse;
  }
  const sourceBucket = options.sourceBucket;
  if (!sourceBucket) {
    const also = given.length ? ` (${given.join(', ')} alone ${given.length === 1 ? 'is' : 'are'} not enough)` : '';
    throw error(
      `${path}: warehouse or sourceBucket is missing${also}: pass the namespace's warehouse, e.g. Warehouse.fromNamespace(this, 'Warehouse', 'devcontainers'), or your own ${options.requiredResources ?? 'sourceBucket (with encryptionKey unless the bucket has one)'}`,
    );
  }
  const encryptionKey = options.encryptionKey ?? sourceBucket.encryptionKey;
  if (!encryptionKey) {
    throw error(
      `${path}: the source bucket ${sourceBucket.node.path} has no encryptionKey the pipeline could decrypt with: pass encryptionKey (the KMS key of its objects)`,
    );
  }
  const artifactKey = options.artifactBucket?.encryptionKey;
  if (artifactKey && artifactKey !== encryptionKey) {
    throw error(
      `${path}: artifactBucket is encrypted with ${artifactKey.node.path}, the source objects with ${encryptionKey.node.path}: the pipeline's roles decrypt both with one key, so give the artifact bucket the same key, or leave artifactBucket out to get one`,
    );
  }
  const artifactBucket = options.artifactBucket ?? new ArtifactBucket(scope, 'ArtifactBucket', { encryptionKey, removalPolicy: options.removalPolicy });
  return Warehouse.fromWarehouseAttributes(scope, 'Resources', {
    namespace: options.namespace ?? DEFAULT_NAMESPACE,
    sourceBucket,
    artifactBucket,
    s3Key: encryptionKey,
    repositories: options.repositories,
    failureTopic: options.failureTopic,
  });
}

/**
 * Refuses a resource of another account or region: the pipeline's roles, its event rules
 * (which see only this account's and region's events) and Retention (which is given this
 * stack's registry host) all work in the stack's own environment, so such a resource
 * would be a pipeline that never starts or cleans up the wrong registry. A difference
 * known at synth throws; one known only at deploy (an imported ARN in an environment-
 * agnostic stack) becomes a CloudFormation rule that fails the deploy with the reason.
 */
function requireThisEnvironment(scope: Construct, resources: Record<string, unknown>, error: (message: string) => Error): void {
  const stack = Stack.of(scope);
  for (const [name, value] of Object.entries(resources)) {
    const env = (value as Partial<IResource> | undefined)?.env;
    if (!env) continue;
    for (const [part, theirs, ours, pseudo] of [
      ['account', env.account, stack.account, Aws.ACCOUNT_ID],
      ['region', env.region, stack.region, Aws.REGION],
    ] as const) {
      const why =
        `${name} is in ${part} ${theirs}, and this stack deploys to ${Token.isUnresolved(ours) ? `another ${part}` : `${part} ${ours}`}: ` +
        `a pipeline works with resources of its own account and region only (its roles, its event rules and Retention's registry host are this stack's); ` +
        `deploy the pipeline in the resource's account and region, or pass one of this stack's`;
      const comparison = Token.compareStrings(theirs, ours);
      if (comparison === TokenComparison.DIFFERENT) throw error(`${scope.node.path}: ${why}`);
      if (comparison === TokenComparison.ONE_UNRESOLVED && !Token.isUnresolved(theirs)) {
        new CfnRule(scope, `${name.replace(/[^A-Za-z0-9]/g, '')}In${part === 'account' ? 'Account' : 'Region'}`, {
          assertions: [{ assert: Fn.conditionEquals(pseudo, theirs), assertDescription: why }],
        });
      }
    }
  }
}
