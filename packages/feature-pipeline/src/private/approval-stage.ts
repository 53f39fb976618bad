import { propsError } from '@devcontainer-factory/core';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import { approvalStage as approvalStageOf, grantApprove, type ApprovalProps } from '@devcontainer-factory/pipeline-parts';
import { FeaturePipelinePropsError } from '../feature-pipeline-props-error';
import type { StageContext } from './stage-context';

export { grantApprove, type ApprovalProps };

/**
 * Approval, between Test and Publish when the props ask for it: a person approves the
 * tested version before Publish pushes it and moves `X.Y`, `X` and `latest`. Every upload
 * waits (the feature pipeline runs one upload after another, none is dropped).
 */
export function approvalStage(ctx: StageContext, props: ApprovalProps): codepipeline.StageProps | undefined {
  return approvalStageOf({
    scope: ctx.scope,
    props,
    failureTopic: ctx.warehouse.failureTopic,
    additionalInformation: `Publish the feature ${ctx.featureId} to ${ctx.repository}: the version passed Test; approving publishes it and moves its X.Y, X and latest tags.`,
    error: (message) => propsError(ctx.scope.node.path, FeaturePipelinePropsError, `${message}`),
  });
}
