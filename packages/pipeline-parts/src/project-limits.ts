import { Duration } from 'aws-cdk-lib';

/**
 * How long a build of a pipeline's CodeBuild project may wait in CodeBuild's queue (when
 * the account's concurrent builds are all running) before CodeBuild drops it and the
 * action fails: an hour instead of CodeBuild's eight, so that an execution that cannot
 * start does not hold its stage, and every upload behind it, for a working day.
 */
export const PROJECT_QUEUED_TIMEOUT = Duration.hours(1);

/**
 * How many builds of one pipeline project may run at once: one. A pipeline runs one
 * execution per stage at a time, so a second build can only start beside one that a
 * stopped and abandoned execution left running; CodeBuild then fails the new build
 * (the project's concurrent build limit) instead of letting two builds write the same tags.
 */
export const PROJECT_CONCURRENT_BUILD_LIMIT = 1;
