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
  RELEASE_VARIABLES,
  parseReleaseGateSettings,
  parseReleaseParameters,
  runScanGate,
  type PromotionResult,
  releaseImage,
  FactoryError,
  DEFAULT_RELEASE_LOCK,
} from '@devcontainer-factory/core';
import { runJob, type JobOutcome } from '../../codepipeline/job-runner';
import { EcrRegistry } from '../../registry/ecr-registry';
import { EcrScanFindings } from '../../registry/ecr-scan-findings';
import { releaseLockOf, type LockInvocation } from '../../registry/dynamodb-release-lock';
import type { ImageJobClients } from '../private/image-job-clients';

/** Thrown when the tag rules give a build no tag at all: nothing would ever be pullable. */
export class ReleaseRulesError extends FactoryError {}

/** How the build came into the release repository, in a few words. */
function promotionSummary(promotion: PromotionResult | undefined, staging: string): string {
  if (!promotion) return 'already in the release repository';
  if (promotion.alreadyPromoted) return `promoted from ${staging} before`;
  const { present, mounted, copied } = promotion.blobs;
  return `promoted from ${staging} (blobs: ${mounted} mounted, ${copied} copied, ${present} present)`;
}

/**
 * Runs one Release job and reports it to CodePipeline. The vulnerability gate runs when
 * the function's environment holds its settings ({@link RELEASE_GATE_ENVIRONMENT}, written
 * by the construct when the staging repository is scanned on push).
 */
export async function runReleaseJob(event: unknown, clients: ImageJobClients, environment: Readonly<Record<string, string | undefined>> = process.env, invocation?: LockInvocation): Promise<JobOutcome> {
  return runJob(event, clients, async (job) => {
    const params = parseReleaseParameters(userParameters(job));
    const gate = parseReleaseGateSettings(environment[RELEASE_GATE_ENVIRONMENT]);
    const registry = new EcrRegistry({ client: clients.ecr, host: params.registryHost, retry: clients.retry, fetch: clients.fetch });
    const now = clients.now ?? (() => new Date());
    const result = await releaseImage(registry, params.repository, {
      buildId: params.buildId,
      staging: params.stagingRepository,
      ...(params.version !== NO_VERSION ? { version: params.version } : {}),
      rules: { latest: params.rules.includes('latest'), semver: params.rules.includes('semver'), date: params.rules.includes('date') },
      now: now(),
      lock: clients.releaseLock ?? releaseLockOf(environment, dynamoDb, invocation) ?? DEFAULT_RELEASE_LOCK,
      ...(gate && {
        gate: (plan, repository) => runScanGate(new EcrScanFindings(clients.ecr, clients.retry), repository, params.repository, plan, { policy: gate.policy, maxWaitSeconds: gate.maxWaitSeconds, now, ...(clients.sleep && { sleep: clients.sleep }) }),
      }),
    });
    if (result.tags.length === 0) {
      throw new ReleaseRulesError(
        `the release tag rules (${params.rules.join(', ') || 'none'}) give build ${params.buildId} no tag` +
          (params.rules.includes('semver') && params.version === NO_VERSION
            ? ": the 'semver' rule needs a version: set customizations['devcontainer-factory'].version in devcontainer.json, or add the 'latest' or 'date' rule in the catalogue"
            : ': add a release tag rule in the catalogue'),
      );
    }
    const list = (tags: readonly string[]) => (tags.length ? tags.join(',') : 'none');
    return {
      outputVariables: {
        [RELEASE_VARIABLES.digest]: result.digest,
        [RELEASE_VARIABLES.tags]: list(result.tags),
        [RELEASE_VARIABLES.moved]: list(result.moved),
      },
      summary:
        `${params.repository}:${params.buildId} (${result.digest}) ${promotionSummary(result.promotion, params.stagingRepository)}, released as ${list(result.tags)}; ` +
        (result.moved.length ? `moved ${result.moved.join(', ')}` : 'every tag already pointed here') +
        (result.pinned ? `; a refresh of ${result.pinned}, which stays on its first build` : '') +
        (result.gate ? `; vulnerability gate: ${result.gate.summary}` : gate ? '' : '; vulnerability gate off (the staging repository is not scanned)'),
    };
  });
}

const clients: ImageJobClients = { codepipeline: new CodePipelineClient({}), ecr: new ECRClient({}) };
/** Built on first use: only functions with a lock table talk to DynamoDB. */
let dynamo: DynamoDBClient | undefined;
const dynamoDb = () => (dynamo ??= new DynamoDBClient({}));

export const handler = async (event: unknown, context?: LockInvocation): Promise<void> => {
  await runReleaseJob(event, clients, process.env, context);
};
