import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as events from 'aws-cdk-lib/aws-events';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { ArtifactKind } from '@devcontainer-factory/core';

/** The detail type of CodePipeline's event for each change of an action's state. */
export const ACTION_EXECUTION_STATE_CHANGE = 'CodePipeline Action Execution State Change';

export interface PipelineFailureRuleProps {
  /** The pipeline whose failed actions are sent. */
  readonly pipeline: codepipeline.IPipeline;
  /** Its name, known at synthesis: the rule matches `detail.pipeline` on it. */
  readonly pipelineName: string;
  /** Where the failures go. */
  readonly topic: sns.ITopic;
  /** Whether the pipeline is an image's or a feature's, for the message. */
  readonly kind: ArtifactKind;
  /** The image or feature id, for the message. */
  readonly artifactId: string;
}

/** The value at `path` of CodePipeline's event. */
const field = (path: string) => events.EventField.fromPath(path);

/**
 * The message a failed action sends, one JSON object: a line to read, then the pipeline,
 * execution, stage and action, and what the action reported (`summary`: the failure
 * message a Lambda action gives, CodeBuild's build status; `errorCode`; `externalUrl`, e.g.
 * the build's logs), the account, region and time.
 */
export function failureMessage(kind: ArtifactKind, artifactId: string): events.RuleTargetInput {
  return events.RuleTargetInput.fromObject({
    message: `devcontainer-factory: the ${kind} pipeline ${field('$.detail.pipeline')} failed in ${field('$.detail.stage')} / ${field('$.detail.action')}`,
    kind,
    id: artifactId,
    pipeline: field('$.detail.pipeline'),
    executionId: field('$.detail.execution-id'),
    stage: field('$.detail.stage'),
    action: field('$.detail.action'),
    summary: field('$.detail.execution-result.external-execution-summary'),
    errorCode: field('$.detail.execution-result.error-code'),
    externalUrl: field('$.detail.execution-result.external-execution-url'),
    account: field('$.account'),
    region: field('$.region'),
    time: field('$.time'),
  });
}

/**
 * Adds the EventBridge rule `ActionFailed` that sends each failed action of the pipeline
 * to the topic, as {@link failureMessage}: one message per failed action (a Build stage
 * whose two platforms fail sends two), none for a pipeline execution as a whole, which
 * fails only through an action, and none for the Source stage, whose action fails only
 * when the source bucket holds no configuration yet (each pipeline's first run on deploy). The topic's own policy lets this account's rules publish
 * (see `FailureTopic` of `@devcontainer-factory/warehouse`), so the rule adds no grant to it.
 */
export function addFailureRule(scope: Construct, props: PipelineFailureRuleProps): events.Rule {
  const input = failureMessage(props.kind, props.artifactId);
  return new events.Rule(scope, 'ActionFailed', {
    description: `Sends each failed action of ${props.pipelineName} to the failure topic`,
    eventPattern: {
      source: ['aws.codepipeline'],
      detailType: [ACTION_EXECUTION_STATE_CHANGE],
      // Not Source: it fails only when there is no configuration to start from (every new
      // pipeline's first run, before its first upload), which `dcf status` shows.
      detail: { pipeline: [props.pipelineName], state: ['FAILED'], stage: events.Match.anythingBut('Source') },
    },
    targets: [{ bind: () => ({ arn: props.topic.topicArn, input }) }],
  });
}
