import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import { approvalStage as approvalStageOf, grantApprove, type ApprovalProps } from '@devcontainer-factory/pipeline-parts';
import { ImagePipelinePropsError } from '../image-pipeline-props-error';
import { skipWhenReleased } from './skip-when-released';
import type { PrepareOutputs, StageContext } from './stage-context';

export { grantApprove, type ApprovalProps };

/**
 * Approval, between Test and Release when the props ask for it: a person approves the
 * tested build before Release promotes and tags it. Skipped, as Build, Manifest and Test
 * are, when Prepare finds the build id released: an unchanged upload or a refresh in which
 * nothing moved was approved when it was first released, and does not wait for anyone.
 */
export function approvalStage(ctx: StageContext, props: ApprovalProps, prepare: PrepareOutputs): codepipeline.StageProps | undefined {
  return approvalStageOf({
    scope: ctx.scope,
    props,
    failureTopic: ctx.warehouse.failureTopic,
    additionalInformation: `Release ${ctx.repository}: the build passed Test on ${ctx.platforms.join(', ')}; approving promotes it and moves its tags (${ctx.releaseTags.join(', ')}).`,
    beforeEntry: skipWhenReleased('Approval', prepare.released),
    error: (message) => new ImagePipelinePropsError(message),
  });
}
