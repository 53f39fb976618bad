import { createHash } from 'node:crypto';
import { Duration, Stack, TimeZone } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type { Construct } from 'constructs';
import { BASE_IMAGE_TAG, DEFAULT_REFRESH, REFRESH_SCHEDULES, validateId, type RefreshSchedule } from '@devcontainer-factory/core';
import { ImagePipelinePropsError } from '../image-pipeline-props-error';

/**
 * Starts the pipeline when a base image's `latest` tag is pushed (by its own
 * Release), so that an image is rebuilt on its new base; with `eventRole`, the role
 * every rule of the pipeline starts it with.
 */
export function baseImageReleasedRule(
  scope: Construct,
  pipeline: codepipeline.IPipeline,
  baseRepositories: readonly string[],
  eventRole: iam.IRole,
): events.Rule {
  return new events.Rule(scope, 'BaseImageReleased', {
    // The description stays the same length whatever the number of bases (CloudFormation allows 512 characters);
    // the event pattern names them.
    description: `Starts the image pipeline when the ${BASE_IMAGE_TAG} tag of one of its ${baseRepositories.length} base image${baseRepositories.length === 1 ? '' : 's'} is pushed`,
    eventPattern: {
      source: ['aws.ecr'],
      detailType: ['ECR Image Action'],
      detail: { 'action-type': ['PUSH'], result: ['SUCCESS'], 'repository-name': [...baseRepositories], 'image-tag': [BASE_IMAGE_TAG] },
    },
    targets: [new targets.CodePipeline(pipeline, { eventRole })],
  });
}

/**
 * Starts the pipeline when any tag of a factory feature the image uses is pushed:
 * the feature pipeline publishes `X.Y.Z`, `X.Y`, `X` and `latest`, and a
 * configuration may name any of them. One rule for all the image's features, started
 * with `eventRole` as the other rules of the pipeline.
 */
export function featurePublishedRule(
  scope: Construct,
  pipeline: codepipeline.IPipeline,
  featureRepositories: readonly string[],
  eventRole: iam.IRole,
): events.Rule {
  return new events.Rule(scope, 'FeaturePublished', {
    // As for the base images: the same length whatever the number of features, within CloudFormation's 512 characters.
    description: `Starts the image pipeline when a tag of one of the ${featureRepositories.length} factory feature${featureRepositories.length === 1 ? '' : 's'} it uses is pushed`,
    eventPattern: {
      source: ['aws.ecr'],
      detailType: ['ECR Image Action'],
      detail: { 'action-type': ['PUSH'], result: ['SUCCESS'], 'repository-name': [...featureRepositories] },
    },
    targets: [new targets.CodePipeline(pipeline, { eventRole })],
  });
}

/** The schedule expressions of the refresh settings other than `off`; UTC. */
export const REFRESH_EXPRESSIONS: Readonly<Record<Exclude<RefreshSchedule, 'off'>, string>> = {
  daily: 'rate(1 day)',
  weekly: 'rate(7 days)',
};

/**
 * How far past its time Scheduler may start a refresh (its flexible time window): each
 * start falls at a random point of the window, so the schedules that one deploy creates
 * (whose `rate(…)` all count from that deploy) do not start every pipeline at once.
 */
export const REFRESH_TIME_WINDOW = Duration.hours(4);

/** EventBridge Scheduler's limit on a schedule name (`^[0-9a-zA-Z-_.]+$`, 1 to 64 characters). */
export const MAX_SCHEDULE_NAME_LENGTH = 64;
const REFRESH_SUFFIX = '-refresh';
const HASH_LENGTH = 8;

/**
 * The name of a pipeline's refresh schedule: `<pipeline>-refresh`, or, when that is
 * longer than Scheduler allows, the pipeline name cut short, then 8 hex characters of
 * the SHA-256 of the whole pipeline name, then `-refresh` (the same name on every
 * synthesis, distinct for distinct pipelines); an `@` of the pipeline name becomes `_`.
 */
export function refreshScheduleName(pipelineName: string): string {
  // Scheduler does not allow the '@' a CodePipeline name may have.
  const base = pipelineName.replace(/@/g, '_');
  const name = `${base}${REFRESH_SUFFIX}`;
  if (name.length <= MAX_SCHEDULE_NAME_LENGTH) return name;
  const hash = createHash('sha256').update(pipelineName).digest('hex').slice(0, HASH_LENGTH);
  return `${base.slice(0, MAX_SCHEDULE_NAME_LENGTH - REFRESH_SUFFIX.length - HASH_LENGTH - 1)}-${hash}${REFRESH_SUFFIX}`;
}

/**
 * An EventBridge Scheduler schedule (default group, UTC, within a flexible window of
 * {@link REFRESH_TIME_WINDOW}) that starts the pipeline daily or weekly, so that a moved upstream base or feature is
 * picked up; Prepare skips the build in seconds when no input moved. Its role may
 * only start this pipeline and can be assumed only by this schedule.
 */
export function refreshSchedule(
  scope: Construct,
  pipeline: codepipeline.IPipeline,
  pipelineName: string,
  refresh: Exclude<RefreshSchedule, 'off'>,
): scheduler.Schedule {
  const scheduleName = refreshScheduleName(pipelineName);
  const stack = Stack.of(scope);
  // The schedule's ARN is known from its name; taking it from the schedule would make the role and the schedule depend on each other.
  const scheduleArn = stack.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `default/${scheduleName}` });
  const role = new iam.Role(scope, 'RefreshRole', {
    description: `Lets the schedule ${scheduleName} start the pipeline ${pipelineName}`,
    assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account, 'aws:SourceArn': scheduleArn } },
    }),
  });
  // The target grants the role codepipeline:StartPipelineExecution on this pipeline's ARN, and nothing else.
  return new scheduler.Schedule(scope, 'Refresh', {
    scheduleName,
    description: `Starts the image pipeline ${refresh} to pick up moved base images and features; Prepare skips the build when no input moved`,
    schedule: scheduler.ScheduleExpression.expression(REFRESH_EXPRESSIONS[refresh], TimeZone.ETC_UTC),
    timeWindow: scheduler.TimeWindow.flexible(REFRESH_TIME_WINDOW),
    target: new schedulerTargets.CodePipelineStartPipelineExecution(pipeline, { role }),
  });
}

/** The refresh setting, `weekly` when none is given; an unknown one is an {@link ImagePipelinePropsError}. */
export function checkRefresh(refresh: RefreshSchedule | undefined): RefreshSchedule {
  const value = refresh ?? DEFAULT_REFRESH;
  if (!REFRESH_SCHEDULES.includes(value)) throw new ImagePipelinePropsError(`refresh '${String(value)}' is unknown: use ${REFRESH_SCHEDULES.join(', ')}`);
  return value;
}

/** The feature ids an image uses, each valid and named once; otherwise an {@link ImagePipelinePropsError}. */
export function checkUsesFeatures(imageId: string, usesFeatures: readonly string[] | undefined): string[] {
  const ids = (usesFeatures ?? []).map((feature) => {
    try {
      return validateId(feature, `usesFeatures of image '${imageId}': feature id`);
    } catch (cause) {
      throw new ImagePipelinePropsError((cause as Error).message, { cause });
    }
  });
  const duplicates = [...new Set(ids.filter((f, i) => ids.indexOf(f) !== i))];
  if (duplicates.length)
    throw new ImagePipelinePropsError(`usesFeatures of image '${imageId}' names ${duplicates.map((f) => `'${f}'`).join(', ')} more than once: name each once`);
  return ids;
}
