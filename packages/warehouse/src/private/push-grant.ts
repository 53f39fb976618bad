import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { parameterPrefix, pipelineArnPatterns } from '@devcontainer-factory/core';
import { acknowledgeNag, acknowledgeResourceWildcard } from '../nag';
import type { IWarehouse } from '../warehouse-interface';
import {
  CODEPIPELINE_LIST_ACTIONS,
  CODEPIPELINE_READ_ACTIONS,
  ECR_DESCRIBE_IMAGES_ACTIONS,
  ECR_LIST_REPOSITORIES_ACTIONS,
  KMS_UPLOAD_ACTIONS,
  S3_HEAD_SOURCE_ACTIONS,
  S3_LIST_SOURCE_BUCKET_ACTIONS,
  S3_WRITE_SOURCE_ACTIONS,
  SSM_DCF_READ_ACTIONS,
} from './actions';

const KINDS = ['image', 'feature'] as const;

/** ARNs of the namespace's image and feature pipelines, from core's naming rule (`pipelineArnPatterns`: the hash and the id as wildcards). */
export function pipelineArns(warehouse: IWarehouse): string[] {
  const stack = Stack.of(warehouse);
  return pipelineArnPatterns(warehouse.namespace).map((name) =>
    stack.formatArn({ service: 'codepipeline', resource: name, arnFormat: ArnFormat.NO_RESOURCE_NAME }),
  );
}

/**
 * The identity grants of `Warehouse.grantPushConfigurations`: exactly the calls of
 * `dcf push`, `dcf push --wait`, `dcf status` and `dcf list` on this namespace, each with
 * its wildcard findings acknowledged on the grantee (when it is a construct).
 */
export function grantPushConfigurations(warehouse: IWarehouse, grantee: iam.IGrantable): iam.Grant {
  const stack = Stack.of(warehouse);
  const ns = warehouse.namespace;
  const sourceObjects = KINDS.map((kind) => warehouse.sourceBucket.arnForObjects(warehouse.sourceKey(kind, '*')));
  const parameters = stack.formatArn({
    service: 'ssm',
    resource: 'parameter',
    resourceName: `${parameterPrefix(ns).slice(1)}/*`,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
  const pipelines = pipelineArns(warehouse);
  const allRepositories = warehouse.repositoryArn('*');
  const releaseRepositories = KINDS.map((kind) => warehouse.repositoryArn(warehouse.repositoryName(kind, '*')));
  const grants: Array<[readonly string[], string[], Record<string, Record<string, unknown>>?]> = [
    [S3_WRITE_SOURCE_ACTIONS, sourceObjects],
    [S3_HEAD_SOURCE_ACTIONS, sourceObjects],
    [S3_LIST_SOURCE_BUCKET_ACTIONS, [warehouse.sourceBucket.bucketArn]],
    // Only through S3: the key encrypts nothing else for a pusher.
    [KMS_UPLOAD_ACTIONS, [warehouse.s3Key.keyArn], { StringEquals: { 'kms:ViaService': `s3.${stack.region}.${stack.urlSuffix}` } }],
    [SSM_DCF_READ_ACTIONS, [parameters]],
    [CODEPIPELINE_LIST_ACTIONS, ['*']],
    [CODEPIPELINE_READ_ACTIONS, pipelines],
    [ECR_LIST_REPOSITORIES_ACTIONS, [allRepositories]],
    [ECR_DESCRIBE_IMAGES_ACTIONS, releaseRepositories],
  ];
  const [first, ...rest] = grants.map(([actions, resourceArns, conditions]) =>
    iam.Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns, ...(conditions && { conditions }) }),
  );
  const grant = rest.reduce((all, g) => all.combine(g), first);

  const principal = grantee.grantPrincipal;
  if (Construct.isConstruct(principal)) {
    for (const objects of sourceObjects)
      acknowledgeResourceWildcard(
        principal,
        objects,
        `dcf push uploads any configuration of the namespace ${ns} (<ns>/images/<id>.zip, <ns>/features/<id>.zip); dcf status reads whether one was uploaded`,
      );
    acknowledgeResourceWildcard(principal, parameters, `dcf reads the warehouse's parameters of the namespace ${ns}, and nothing else of SSM`);
    acknowledgeNag(
      principal,
      'IAM5',
      "codepipeline:ListPipelines has no resource-level permissions: dcf status lists the pipelines to find the namespace's",
      'Resource::*',
    );
    for (const p of pipelines)
      acknowledgeResourceWildcard(
        principal,
        p,
        `dcf status and dcf push --wait read the state and executions of any pipeline of the namespace ${ns}; nothing else of CodePipeline`,
      );
    acknowledgeResourceWildcard(
      principal,
      allRepositories,
      "dcf list lists the registry's repositories, which ECR authorizes on repository/* only: names and settings, no images",
    );
    for (const r of releaseRepositories)
      acknowledgeResourceWildcard(principal, r, `dcf list describes the images of any release or feature repository of the namespace ${ns}: no pull, no push`);
  }
  return grant;
}
