import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { WAREHOUSE_HANDLERS, bundleDir } from '@devcontainer-factory/lambdas';
import { acknowledgeNag } from '../nag';

/** How long CloudFormation waits for the handler's answer: its time-out, and Lambda's two retries of an invocation that crashed, with their delays. */
export const REGISTRY_SETTINGS_SERVICE_TIMEOUT = Duration.minutes(15);

/**
 * The custom resource provider of `RegistrySettings`' merged settings: the
 * `registry-settings` handler of `@devcontainer-factory/lambdas` (Node.js 22, arm64),
 * which is its own service token and answers CloudFormation itself (a failure with its
 * message, and before its time-out). Its role has no managed policy; it logs to a log
 * group kept a year. What it may call is added per setting with {@link RegistrySettingsProvider.allow}.
 */
export class RegistrySettingsProvider extends Construct {
  public readonly function: lambda.Function;
  public readonly role: iam.Role;
  /** The custom resources' `ServiceToken`. */
  public readonly serviceToken: string;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_YEAR });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } } }),
      description: 'devcontainer-factory: merges account-wide ECR settings (RegistrySettings)',
    });
    logGroup.grantWrite(this.role);
    this.function = new lambda.Function(this, 'Function', {
      description: "devcontainer-factory: merges this stack's filters into the account-wide ECR settings, never replacing them",
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(bundleDir(WAREHOUSE_HANDLERS.registrySettings)),
      role: this.role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      // Up to 3 read-merge-write rounds, each call retried on throttling with a backoff of at most 20 s.
      timeout: Duration.minutes(3),
      memorySize: 256,
      // CloudFormation invokes it asynchronously: Lambda's default 2 retries run an invocation that could not answer
      // (crashed, or its answer was not delivered) again; the merge is idempotent.
    });
    this.serviceToken = this.function.functionArn;
    acknowledgeNag(this.function, 'L1', 'the handler is bundled for Node.js 22 (esbuild target node22) and tested on it; the runtime moves with that target');
  }

  /** Lets the handler make `actions` on `resources` (with `conditions`). */
  allow(actions: readonly string[], resources: string[], conditions?: Record<string, Record<string, unknown>>): void {
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...actions], resources, ...(conditions && { conditions }) }));
  }
}
