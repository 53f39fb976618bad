import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { IMAGE_HANDLERS, bundleDir } from '@devcontainer-factory/lambdas';
import { lambdaInAccount } from '@devcontainer-factory/pipeline-parts';
import { acknowledgeNag } from '@devcontainer-factory/warehouse';

export interface JobFunctionProps {
  /** Which handler bundle of `@devcontainer-factory/lambdas`. */
  readonly handler: keyof typeof IMAGE_HANDLERS;
  readonly description: string;
  readonly logGroup: logs.ILogGroup;
  /** @default Duration.minutes(2) */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default - none */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * The IAM path of the role, when a repository policy names its writers by path.
   * @default - the root path `/`
   */
  readonly rolePath?: string;
  /**
   * Concurrent executions reserved for (and the most allowed to) the function.
   * @default - none: the function takes from the account's unreserved concurrency
   */
  readonly reservedConcurrentExecutions?: number;
}

/** How long an invocation may wait in Lambda's queue: CodePipeline's timeout of a Lambda invoke action. */
export const JOB_EVENT_MAX_AGE = Duration.hours(1);

/**
 * One Lambda action's function: the handler's esbuild bundle on Node.js 22 and
 * arm64, its own role (no managed policies: logs go to the pipeline's log group),
 * so that each stage's permissions stay apart.
 *
 * CodePipeline invokes it asynchronously, once per job: Lambda never retries a failed
 * invocation (`retryAttempts: 0`) and drops one that waited longer than the action may
 * run ({@link JOB_EVENT_MAX_AGE}), so a job that failed, timed out or whose execution was
 * stopped and abandoned is not run again behind the pipeline's back; CodePipeline's own
 * retry of the action starts a new job.
 */
export class JobFunction extends Construct {
  public readonly function: lambda.Function;
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: JobFunctionProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: lambdaInAccount(this),
      description: props.description,
      ...(props.rolePath && { path: props.rolePath }),
    });
    props.logGroup.grantWrite(this.role);
    this.function = new lambda.Function(this, 'Function', {
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(bundleDir(IMAGE_HANDLERS[props.handler])),
      role: this.role,
      logGroup: props.logGroup,
      // The handlers write JSON lines (level, message, timestamp, jobId); Lambda's own lines are JSON too.
      loggingFormat: lambda.LoggingFormat.JSON,
      timeout: props.timeout ?? Duration.minutes(2),
      memorySize: props.memorySize ?? 256,
      retryAttempts: 0,
      // CodePipeline fails a Lambda action after an hour: an event still queued by then (throttled) belongs to a job that is over.
      maxEventAge: JOB_EVENT_MAX_AGE,
      ...(props.reservedConcurrentExecutions !== undefined && { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
      ...(props.environment && { environment: { ...props.environment } }),
    });
    acknowledgeNag(this, 'L1', 'the handlers are bundled for Node.js 22 (esbuild target node22) and tested on it; the runtime moves with that target');
    acknowledgeNag(
      this.role,
      'IAM5',
      'codepipeline:PutJobSuccessResult and PutJobFailureResult support no resource-level permissions (the job id is the only scope)',
      'Resource::*',
    );
  }
}
