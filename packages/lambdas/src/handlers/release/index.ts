/**
 * Release action of the image pipeline: promotes the tested build from the staging
 * repository into the release repository, then points the release tags (`latest`,
 * `X.Y.Z`/`X.Y`/`X`, a date tag) at the tested index `<build>`. Refuses, before
 * moving any tag, to move an existing `X.Y.Z` to another digest.
 */
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import {
  userParameters,
  NO_VERSION,
  RELEASE_GATE_ENVIRONMENT,
  parseReleaseGateSettings,
  parseReleaseParameters,
  runReleaseStage,
  runScanGate,
  DEFAULT_RELEASE_LOCK,
} from '@devcontainer-factory/core';
import { runJob, type JobOutcome } from '../../codepipeline/job-runner';
import { EcrRegistry } from '../../registry/ecr-registry';
import { EcrScanFindings } from '../../registry/ecr-scan-findings';
import { releaseLockOf, type LockInvocation } from '../../registry/dynamodb-release-lock';
import type { ImageJobClients } from '../private/image-job-clients';

/**
 * Runs one Release job ({@link runReleaseStage}) and reports it to CodePipeline. The
 * vulnerability gate runs when the function's environment holds its settings
 * ({@link RELEASE_GATE_ENVIRONMENT}, written by the construct when the staging repository
 * is scanned on push).
 */
export async function runReleaseJob(
  event: unknown,
  clients: ImageJobClients,
  environment: Readonly<Record<string, string | undefined>> = process.env,
  invocation?: LockInvocation,
): Promise<JobOutcome> {
  return runJob(event, clients, async (job) => {
    const params = parseReleaseParameters(userParameters(job));
    const gate = parseReleaseGateSettings(environment[RELEASE_GATE_ENVIRONMENT]);
    const registry = new EcrRegistry({ client: clients.ecr, host: params.registryHost, retry: clients.retry, fetch: clients.fetch });
    const now = clients.now ?? (() => new Date());
    const { outputVariables, summary } = await runReleaseStage(registry, {
      repository: params.repository,
      staging: params.stagingRepository,
      buildId: params.buildId,
      ...(params.version !== NO_VERSION && { version: params.version }),
      rules: params.rules,
      now: now(),
      lock: clients.releaseLock ?? releaseLockOf(environment, dynamoDb, invocation) ?? DEFAULT_RELEASE_LOCK,
      ...(gate && {
        gate: (plan, repository) =>
          runScanGate(new EcrScanFindings(clients.ecr, clients.retry), repository, params.repository, plan, {
            policy: gate.policy,
            maxWaitSeconds: gate.maxWaitSeconds,
            now,
            ...(clients.sleep && { sleep: clients.sleep }),
          }),
      }),
      gateOff: 'vulnerability gate off (the staging repository is not scanned)',
    });
    return { outputVariables: { ...outputVariables }, summary };
  });
}

const clients: ImageJobClients = { codepipeline: new CodePipelineClient({}), ecr: new ECRClient({}) };
/** Built on first use: only functions with a lock table talk to DynamoDB. */
let dynamo: DynamoDBClient | undefined;
const dynamoDb = () => (dynamo ??= new DynamoDBClient({}));

export const handler = async (event: unknown, context?: LockInvocation): Promise<void> => {
  await runReleaseJob(event, clients, process.env, context);
};
