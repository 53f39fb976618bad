/**
 * The grants of the roles a person (or a CI role) plays with `dcf`, on what a warehouse
 * or one pipeline holds: watch (`dcf status`, `dcf push --wait`) and read releases
 * (`dcf list`, `dcf tags`, `dcf sbom`, `dcf fetch`). Pushing is `grantPushConfigurations`
 * of the warehouse, or `grantPushConfiguration` of a pipeline, which adds watching.
 * Each grant is exactly the calls of those commands, each wildcard finding acknowledged
 * on the grantee with what `dcf` does with it.
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { parameterPrefix, type ArtifactKind } from '@devcontainer-factory/core';
import { acknowledgeNag, acknowledgeRegistryLogin, acknowledgeResourceWildcard, nagText } from './nag';
import {
  CODEPIPELINE_LIST_ACTIONS,
  CODEPIPELINE_READ_ACTIONS,
  ECR_AUTH_ACTIONS,
  ECR_LIST_REPOSITORIES_ACTIONS,
  ECR_PULL_ACTIONS,
  S3_HEAD_SOURCE_ACTIONS,
  S3_LIST_SOURCE_BUCKET_ACTIONS,
  SSM_DCF_READ_ACTIONS,
} from './private/actions';
import type { IWarehouse } from './warehouse-interface';

/** What a `dcf` grant covers: the configurations, pipelines and release repositories of a namespace, or of one pipeline. */
export interface DcfGrantTargets {
  /** ARNs of the configurations' source objects (`<ns>/images/<id>.zip`, or a pattern). */
  readonly sourceObjects?: readonly string[];
  /** ARNs of the pipelines. */
  readonly pipelines?: readonly string[];
  /** ARNs of the release repositories (`<ns>/images/<id>`, `<ns>/features/<id>`, or patterns). */
  readonly repositories?: readonly string[];
  /** Whether `dcf list` may list the registry's repositories (ECR authorizes that on `repository/*` only). @default false */
  readonly listRepositories?: boolean;
  /** What the targets are, for the acknowledgements' reasons, e.g. `the namespace acme` or `the pipeline of image 'python'`. */
  readonly what: string;
}

/** The ARN of the warehouse's SSM parameters, `/<ns>/factory/*`, which `dcf` reads to find the source bucket and the registry. */
function parametersArn(warehouse: IWarehouse): string {
  return Stack.of(warehouse).formatArn({
    service: 'ssm',
    resource: 'parameter',
    resourceName: `${parameterPrefix(warehouse.namespace).slice(1)}/*`,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}

/** One statement per action list, combined into one grant. */
function grantAll(grantee: iam.IGrantable, statements: Array<[readonly string[], readonly string[]]>): iam.Grant {
  const grants = statements
    .filter(([, resources]) => resources.length > 0)
    .map(([actions, resourceArns]) => iam.Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns: [...resourceArns] }));
  return grants.slice(1).reduce((all, g) => all.combine(g), grants[0]);
}

/** Acknowledges the wildcard finding of each ARN that has one. */
function acknowledgeWildcards(principal: Construct, arns: readonly string[], reason: string): void {
  for (const arn of arns) if (nagText(principal, arn).includes('*')) acknowledgeResourceWildcard(principal, arn, reason);
}

/**
 * Watch: what `dcf status` and `dcf push --wait` read. `ssm:GetParameters` on
 * `/<ns>/factory/*`, `codepipeline:ListPipelines` (no resource-level permissions), the
 * state, executions and action executions of the pipelines, and `s3:GetObject` on the
 * source objects with `s3:ListBucket` (so a configuration never uploaded is told from a
 * failure; S3 answers a HEAD of a missing key with 403 without it). No write, no start.
 */
export function grantDcfWatch(warehouse: IWarehouse, grantee: iam.IGrantable, targets: DcfGrantTargets): iam.Grant {
  const parameters = parametersArn(warehouse);
  const sourceObjects = targets.sourceObjects ?? [];
  const pipelines = targets.pipelines ?? [];
  const grant = grantAll(grantee, [
    [SSM_DCF_READ_ACTIONS, [parameters]],
    [CODEPIPELINE_LIST_ACTIONS, ['*']],
    [CODEPIPELINE_READ_ACTIONS, pipelines],
    [S3_HEAD_SOURCE_ACTIONS, sourceObjects],
    [S3_LIST_SOURCE_BUCKET_ACTIONS, sourceObjects.length ? [warehouse.sourceBucket.bucketArn] : []],
  ]);
  const principal = grantee.grantPrincipal;
  if (Construct.isConstruct(principal)) {
    acknowledgeResourceWildcard(principal, parameters, `dcf reads the warehouse's parameters of the namespace ${warehouse.namespace}, and nothing else of SSM`);
    acknowledgeNag(
      principal,
      'IAM5',
      "codepipeline:ListPipelines has no resource-level permissions: dcf status lists the pipelines to find the namespace's",
      'Resource::*',
    );
    acknowledgeWildcards(principal, pipelines, `dcf status and dcf push --wait read the state and executions of the pipelines of ${targets.what}`);
    acknowledgeWildcards(principal, sourceObjects, `dcf status reads whether a configuration of ${targets.what} was uploaded`);
  }
  return grant;
}

/**
 * Read releases: what `dcf list`, `dcf tags`, `dcf sbom` and `dcf fetch` read.
 * `ssm:GetParameters` on `/<ns>/factory/*`, the registry login, and pulls of the release
 * repositories (manifests, layers, the SBOM and configuration referrers; image listings),
 * with `ecr:DescribeRepositories` on `repository/*` when `listRepositories`. No push, no
 * delete, and no staging repository.
 */
export function grantDcfReadReleases(warehouse: IWarehouse, grantee: iam.IGrantable, targets: DcfGrantTargets): iam.Grant {
  const parameters = parametersArn(warehouse);
  const repositories = targets.repositories ?? [];
  const allRepositories = warehouse.repositoryArn('*');
  const grant = grantAll(grantee, [
    [SSM_DCF_READ_ACTIONS, [parameters]],
    [ECR_AUTH_ACTIONS, ['*']],
    [ECR_PULL_ACTIONS, repositories],
    [ECR_LIST_REPOSITORIES_ACTIONS, targets.listRepositories ? [allRepositories] : []],
  ]);
  const principal = grantee.grantPrincipal;
  if (Construct.isConstruct(principal)) {
    acknowledgeResourceWildcard(principal, parameters, `dcf reads the warehouse's parameters of the namespace ${warehouse.namespace}, and nothing else of SSM`);
    acknowledgeRegistryLogin(principal);
    acknowledgeWildcards(principal, repositories, `dcf tags, sbom and fetch pull the releases of ${targets.what}: no push, no delete`);
    if (targets.listRepositories)
      acknowledgeResourceWildcard(
        principal,
        allRepositories,
        "dcf list lists the registry's repositories, which ECR authorizes on repository/* only: names and settings, no images",
      );
  }
  return grant;
}

/** One pipeline as a `dcf` grant sees it: its kind and id, its pipeline's ARN and its release repository's name. */
export interface DcfPipelineTarget {
  readonly kind: ArtifactKind;
  readonly id: string;
  readonly pipelineArn: string;
  readonly repositoryName: string;
}

/**
 * The `dcf` grants of one pipeline, as `ImagePipeline` and `FeaturePipeline` give them:
 * `push` (upload its configuration, through the source bucket's policy, and watch),
 * `watch` ({@link grantDcfWatch} of its pipeline and source object) and `read`
 * ({@link grantDcfReadReleases} of its release repository).
 */
export function grantDcfPipeline(role: 'push' | 'watch' | 'read', warehouse: IWarehouse, grantee: iam.IGrantable, target: DcfPipelineTarget): iam.Grant {
  const what = `the ${target.kind} '${target.id}'`;
  if (role === 'read') return grantDcfReadReleases(warehouse, grantee, { repositories: [warehouse.repositoryArn(target.repositoryName)], what });
  const watch = grantDcfWatch(warehouse, grantee, {
    sourceObjects: [warehouse.sourceBucket.arnForObjects(warehouse.sourceKey(target.kind, target.id))],
    pipelines: [target.pipelineArn],
    what: `the pipeline of ${what}`,
  });
  return role === 'watch' ? watch : warehouse.grantWriteSource(grantee, target.kind, target.id).combine(watch);
}
