import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import {
  DEFAULT_KEEP_DATE_TAGS,
  DEFAULT_STAGING_MAX_AGE_DAYS,
  RELEASE_LOCK_TABLE_ENVIRONMENT,
  RELEASE_LOCK_TABLE_KEYS,
  RETENTION_ENVIRONMENT,
  RETENTION_LIMITS,
} from '@devcontainer-factory/core';
import { IMAGE_HANDLERS, bundleDir } from '@devcontainer-factory/lambdas';
import { lambdaInAccount } from '@devcontainer-factory/pipeline-parts';
import { acknowledgeNag } from '@devcontainer-factory/warehouse';
import { ImagePipelinePropsError } from './image-pipeline-props-error';

/**
 * What the retention function may do on the release and staging repositories, and
 * nothing else: list and read manifests (`ecr:ListImages`, `ecr:BatchGetImage`,
 * `ecr:DescribeImages`), read image configs (`ecr:GetDownloadUrlForLayer`) and delete
 * manifests by digest (`ecr:BatchDeleteImage`).
 */
export const IMAGE_RETENTION_ACTIONS: readonly string[] = [
  'ecr:ListImages',
  'ecr:BatchGetImage',
  'ecr:DescribeImages',
  'ecr:BatchDeleteImage',
  'ecr:GetDownloadUrlForLayer',
];

/**
 * What a writer of the image's repositories may do on the release lock table: take the
 * lock (a conditional `PutItem`) and give it up (a conditional `DeleteItem`), on the
 * items of those repositories only.
 */
export const RELEASE_LOCK_ACTIONS: readonly string[] = ['dynamodb:PutItem', 'dynamodb:DeleteItem'];

export interface ImageRetentionProps {
  /** The registry host the repositories are in, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com`. */
  readonly registryHost: string;
  /** The release repository of the image, `<ns>/images/<id>`. */
  readonly releaseRepository: string;
  /** The staging repository of the image, `<ns>/builds/<id>`. */
  readonly stagingRepository: string;
  /**
   * The ARN of a repository, by name (e.g. `(name) => warehouse.repositoryArn(name)`).
   * @default - the repository of that name in this stack's account and region
   */
  readonly repositoryArn?: (repositoryName: string) => string;
  /**
   * The ARN of the release repository.
   * @default - `repositoryArn(releaseRepository)`
   */
  readonly releaseRepositoryArn?: string;
  /**
   * The ARN of the staging repository.
   * @default - `repositoryArn(stagingRepository)`
   */
  readonly stagingRepositoryArn?: string;
  /**
   * How many date tags (`YYYYMMDD`) the release repository keeps, the newest first.
   * Every `X.Y.Z`, `X.Y`, `X` and `latest` is always kept.
   * @default 10
   */
  readonly keepDateTags?: number;
  /**
   * After how many days a staging build that was not released is deleted (by the
   * `created` time of its image config); released builds are deleted at the next run.
   * @default 14
   */
  readonly stagingMaxAgeDays?: number;
  /**
   * When retention runs.
   * @default - once a day (`rate(1 day)`)
   */
  readonly schedule?: events.Schedule;
  /**
   * Where the function logs its plans.
   * @default - a new log group, kept for three months and retained on delete
   */
  readonly logGroup?: logs.ILogGroup;
  /**
   * What happens to the log group it creates (not a given `logGroup`) when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Only log the plans, delete nothing.
   * @default false
   */
  readonly dryRun?: boolean;
  /**
   * The DynamoDB table of the lock that retention and the image's Release share, so
   * that retention never deletes between a release's promotion and its tags. Its
   * partition key is the string `lock`; give every writer of the image's repositories
   * {@link ImageRetention.grantLock} and the table's name in `DCF_RELEASE_LOCK_TABLE`.
   * @default - a new table (on-demand, encrypted, expired locks removed by time to live)
   */
  readonly lockTable?: dynamodb.ITable;
  /**
   * Where a failed run is reported: the function's on-failure destination (Lambda's
   * record of the scheduled invocation, with the error message) and a CloudWatch alarm
   * on its errors and throttles. The function's role may publish to it; the topic's
   * policy must let cloudwatch.amazonaws.com publish (see `FailureTopic`).
   * @default - none: a failed run is only logged
   */
  readonly failureTopic?: sns.ITopic;
}

function checkCount(value: number, prop: string, max: number): number {
  if (Token.isUnresolved(value)) throw new ImagePipelinePropsError(`${prop} must be a number known at synthesis, not a token`);
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new ImagePipelinePropsError(`${prop} must be a whole number from 1 to ${max}, not ${value}`);
  }
  return value;
}

function checkName(value: string, prop: string): string {
  if (Token.isUnresolved(value)) return value;
  if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/.test(value) || value.length > 256) {
    throw new ImagePipelinePropsError(
      `${prop} '${value}' is not an ECR repository name: use lowercase '/'-separated components, e.g. 'devcontainers/images/python'`,
    );
  }
  return value;
}

/**
 * Retention of one image's repositories: a Lambda, started on a schedule, that plans
 * and then applies retention (`planRetention` / `applyRetention` of
 * `@devcontainer-factory/core`). In the release repository it keeps every `X.Y.Z`,
 * `X.Y`, `X`, `latest` and the newest `keepDateTags` date tags, and every image a kept
 * index references; in the staging repository it deletes builds that are released or
 * older than `stagingMaxAgeDays`. The function may only read and delete images of
 * those two repositories.
 */
export class ImageRetention extends Construct {
  /** The retention function. */
  public readonly function: lambda.Function;
  /** Its role. */
  public readonly role: iam.Role;
  /** The schedule rule that starts it. */
  public readonly rule: events.Rule;
  /** The alarm on the function's errors and throttles, which notifies the failure topic; absent without `failureTopic`. */
  public readonly failureAlarm?: cloudwatch.Alarm;
  /** Where it logs. */
  public readonly logGroup: logs.ILogGroup;
  /** The table of the release lock that retention and Release share. */
  public readonly lockTable: dynamodb.ITable;
  /** The lock items of the image's repositories: `<registry host>/<repository>`. */
  private readonly lockKeys: readonly string[];

  constructor(scope: Construct, id: string, props: ImageRetentionProps) {
    super(scope, id);
    if (!props.registryHost)
      throw new ImagePipelinePropsError('registryHost must not be empty: give the registry host, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com');
    const releaseRepository = checkName(props.releaseRepository, 'releaseRepository');
    const stagingRepository = checkName(props.stagingRepository, 'stagingRepository');
    if (!Token.isUnresolved(releaseRepository) && releaseRepository === stagingRepository) {
      throw new ImagePipelinePropsError(
        `releaseRepository and stagingRepository are both '${releaseRepository}': staging builds live in a repository of their own (<ns>/builds/<id>)`,
      );
    }
    const keepDateTags = checkCount(props.keepDateTags ?? DEFAULT_KEEP_DATE_TAGS, 'keepDateTags', RETENTION_LIMITS.keepDateTags);
    const stagingMaxAgeDays = checkCount(props.stagingMaxAgeDays ?? DEFAULT_STAGING_MAX_AGE_DAYS, 'stagingMaxAgeDays', RETENTION_LIMITS.stagingMaxAgeDays);
    const arnOf = props.repositoryArn ?? ((name: string) => Stack.of(this).formatArn({ service: 'ecr', resource: 'repository', resourceName: name }));

    this.logGroup =
      props.logGroup ??
      new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN });
    const description = `devcontainer-factory: retention of ${releaseRepository} and ${stagingRepository}`;
    this.role = new iam.Role(this, 'Role', { assumedBy: lambdaInAccount(this), description });
    this.logGroup.grantWrite(this.role);
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: [...IMAGE_RETENTION_ACTIONS],
        resources: [props.releaseRepositoryArn ?? arnOf(releaseRepository), props.stagingRepositoryArn ?? arnOf(stagingRepository)],
      }),
    );
    this.lockKeys = [`${props.registryHost}/${releaseRepository}`, `${props.registryHost}/${stagingRepository}`];
    this.lockTable = props.lockTable ?? this.newLockTable();
    this.grantLock(this.role);
    const E = RETENTION_ENVIRONMENT;
    this.function = new lambda.Function(this, 'Function', {
      description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(bundleDir(IMAGE_HANDLERS.retention)),
      role: this.role,
      logGroup: this.logGroup,
      // The handler writes JSON lines (level, message, timestamp); Lambda's own lines are JSON too.
      loggingFormat: lambda.LoggingFormat.JSON,
      timeout: Duration.minutes(15),
      memorySize: 256,
      // A run that failed is not run again by Lambda behind the next one: the schedule starts the next run.
      // (The function's asynchronous-invocation settings all belong in these props: a function has one EventInvokeConfig.)
      retryAttempts: 0,
      // The scheduled invocation's record (with the error) goes to the failure topic; the function's role may publish to it.
      ...(props.failureTopic && { onFailure: new destinations.SnsDestination(props.failureTopic) }),
      environment: {
        [E.registryHost]: props.registryHost,
        [E.releaseRepository]: releaseRepository,
        [E.stagingRepository]: stagingRepository,
        [E.keepDateTags]: String(keepDateTags),
        [E.stagingMaxAgeDays]: String(stagingMaxAgeDays),
        [E.dryRun]: props.dryRun ? 'true' : 'false',
        [RELEASE_LOCK_TABLE_ENVIRONMENT]: this.lockTable.tableName,
      },
    });
    this.rule = new events.Rule(this, 'Schedule', {
      description: `devcontainer-factory: starts the retention of ${releaseRepository}`,
      schedule: props.schedule ?? events.Schedule.rate(Duration.days(1)),
      targets: [new targets.LambdaFunction(this.function)],
    });
    if (props.failureTopic) {
      this.failureAlarm = this.newFailureAlarm(releaseRepository, props.failureTopic);
      if (props.failureTopic.masterKey) {
        acknowledgeNag(
          this.role,
          'IAM5',
          "CDK's publish grant on the failure topic's KMS key: SNS takes a data key for each message (kms:GenerateDataKey*); the grant is on that key only",
          'Action::kms:GenerateDataKey*',
        );
      }
    }
    acknowledgeNag(this.function, 'L1', 'the handlers are bundled for Node.js 22 (esbuild target node22) and tested on it; the runtime moves with that target');
  }

  /**
   * Lets `grantee` take and give up the release lock of the image's repositories (and
   * no other item of the table): what Release needs beside retention. Set the
   * grantee's `DCF_RELEASE_LOCK_TABLE` to {@link lockTable}'s name.
   */
  public grantLock(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: [...RELEASE_LOCK_ACTIONS],
      resourceArns: [this.lockTable.tableArn],
      conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [...this.lockKeys] } },
    });
  }

  /**
   * An alarm that notifies the failure topic when a run fails or is throttled (any in 5
   * minutes): it also covers runs started by hand, which have no on-failure destination.
   * No data, as between the daily runs, is not a failure.
   */
  private newFailureAlarm(releaseRepository: string, topic: sns.ITopic): cloudwatch.Alarm {
    const period = Duration.minutes(5);
    const failures = new cloudwatch.MathExpression({
      expression: 'FILL(errors, 0) + FILL(throttles, 0)',
      usingMetrics: { errors: this.function.metricErrors({ period }), throttles: this.function.metricThrottles({ period }) },
      label: 'Failed or throttled runs',
      period,
    });
    const alarm = failures.createAlarm(this, 'FailureAlarm', {
      alarmDescription: `devcontainer-factory: the retention of ${releaseRepository} failed or was throttled: the error is in its log group, and Lambda's record of a failed scheduled run is on the failure topic`,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new cloudwatchActions.SnsAction(topic));
    return alarm;
  }

  private newLockTable(): dynamodb.Table {
    const table = new dynamodb.Table(this, 'LockTable', {
      partitionKey: { name: RELEASE_LOCK_TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: RELEASE_LOCK_TABLE_KEYS.timeToLive,
      // Holds only leases of runs in progress, each gone within minutes: nothing to keep or restore.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledgeNag(
      table,
      'DDB3',
      'the table holds only the leases of Release and Retention runs in progress (minutes each); a point-in-time restore has nothing to bring back',
    );
    return table;
  }
}
