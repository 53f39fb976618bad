import { Annotations, ArnFormat, Stack } from 'aws-cdk-lib';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';

/** The props of both pipelines that ask a person to approve before the stage that publishes. */
export interface ApprovalProps {
  /**
   * Wait for a person to approve (or reject) before the stage that makes the build
   * public: a stage `Approval` with a CodePipeline manual approval action, which waits up
   * to 7 days (then the execution fails). Approvers are the principals granted
   * `grantApprove`.
   * @default false - the publishing stage follows a passed Test
   */
  readonly approval?: boolean;
  /**
   * The SNS topic that is told an approval waits (CodePipeline publishes the pipeline,
   * the stage, a link to the console and the `additionalInformation`). Only with `approval`.
   * @default - the warehouse's failure topic (or `failureTopic`); none when there is
   * neither, with a warning
   */
  readonly approvalTopic?: sns.ITopic;
}

/** The stage and action names of the approval: `arn:…:<pipeline>/Approval/Approve` is what approvers are granted. */
export const APPROVAL_STAGE_NAME = 'Approval';
export const APPROVAL_ACTION_NAME = 'Approve';

/** What an approver calls on the approval action: approve or reject it. */
export const APPROVAL_RESULT_ACTIONS = ['codepipeline:PutApprovalResult'] as const;

/** What an approver reads of the pipeline: its state, which holds the token `PutApprovalResult` takes. */
export const APPROVAL_READ_ACTIONS = ['codepipeline:GetPipelineState'] as const;

export interface ApprovalStageOptions {
  /** Where the pipeline's props were checked, for errors and warnings. */
  readonly scope: Construct;
  /** The pipeline's props. */
  readonly props: ApprovalProps;
  /** The warehouse's failure topic, the default notification topic. */
  readonly failureTopic?: sns.ITopic;
  /** Said in the notification: what is approved. */
  readonly additionalInformation: string;
  /**
   * The stage's entry condition.
   * @default - none: every execution that gets there waits for a person
   */
  readonly beforeEntry?: codepipeline.Conditions;
  /** Makes the pipeline's props error of a message. */
  readonly error: (message: string) => Error;
}

/**
 * The `Approval` stage of a pipeline whose props ask for one, or undefined. CodePipeline
 * publishes to the notification topic with the pipeline's role (CDK grants it
 * `sns:Publish` on the topic); a topic encrypted with a key must let the account's roles
 * use it through SNS, as the warehouse's `FailureTopic` does.
 */
export function approvalStage(options: ApprovalStageOptions): codepipeline.StageProps | undefined {
  const { props, scope } = options;
  if (!props.approval) {
    if (props.approvalTopic)
      throw options.error(
        'approvalTopic is given without approval: true: pass approval: true to wait for an approval before publishing, or leave approvalTopic out',
      );
    return undefined;
  }
  const notificationTopic = props.approvalTopic ?? options.failureTopic;
  if (!notificationTopic) {
    Annotations.of(scope).addWarningV2(
      'devcontainer-factory:approval-without-notification',
      'approval is on, but no topic is told that an approval waits: pass approvalTopic (or give the pipeline a failureTopic or a warehouse), or approvers only see it in the console and in dcf status',
    );
  }
  return {
    stageName: APPROVAL_STAGE_NAME,
    ...(options.beforeEntry && { beforeEntry: options.beforeEntry }),
    actions: [
      new actions.ManualApprovalAction({
        actionName: APPROVAL_ACTION_NAME,
        additionalInformation: options.additionalInformation,
        ...(notificationTopic && { notificationTopic }),
      }),
    ],
  };
}

/**
 * Lets `grantee` approve or reject the approval of the pipeline `pipelineName`:
 * {@link APPROVAL_RESULT_ACTIONS} on its action `arn:…:codepipeline:<region>:<account>:<pipeline>/Approval/Approve`
 * and {@link APPROVAL_READ_ACTIONS} on the pipeline, nothing else. CodePipeline has no
 * resource policy: a principal whose own policies allow `PutApprovalResult` (an
 * administrator) can approve too.
 */
export function grantApprove(scope: Construct, grantee: iam.IGrantable, pipelineName: string): iam.Grant {
  const stack = Stack.of(scope);
  const pipelineArn = stack.formatArn({ service: 'codepipeline', resource: pipelineName, arnFormat: ArnFormat.NO_RESOURCE_NAME });
  const grant = iam.Grant.addToPrincipal({
    grantee,
    actions: [...APPROVAL_RESULT_ACTIONS],
    resourceArns: [`${pipelineArn}/${APPROVAL_STAGE_NAME}/${APPROVAL_ACTION_NAME}`],
  });
  return grant.combine(iam.Grant.addToPrincipal({ grantee, actions: [...APPROVAL_READ_ACTIONS], resourceArns: [pipelineArn] }));
}
