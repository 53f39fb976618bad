/**
 * Retention of a release repository of about 10,000 tags over ECR's API as
 * EcrRegistry calls it (an in-memory ECR that counts requests, test/support/memory-ecr.ts):
 * the plan, then applying it, with the requests each took and the time they would
 * take at a stated latency per request. Figures, not assertions.
 */
import { applyRetention, planRetention } from '@devcontainer-factory/core';
import { EcrRegistry } from '../src/registry/ecr-registry';
import { MemoryEcr } from '../test/support/memory-ecr';
import { releaseHistory } from '../test/support/release-history';

/** ECR API latency assumed for the estimate (a request in the same region). */
const LATENCY_MS = 30;
/** Reads retention makes at once (core's retention CONCURRENCY). */
const READ_CONCURRENCY = 8;

async function main(): Promise<void> {
  const releases = Number(process.argv[2] ?? 3400);
  const repository = 'devcontainers/images/python';
  const ecr = new MemoryEcr();
  releaseHistory(ecr, repository, releases);
  const tags = ecr.tags(repository).size;
  const registry = new EcrRegistry({ client: ecr.client, host: '123456789012.dkr.ecr.eu-west-1.amazonaws.com', retry: { sleep: async () => undefined, random: () => 0 } });
  const lock = { acquire: async () => ({ release: async () => undefined }) };
  const options = { kind: 'release', keepDateTags: 10, now: new Date(), lock } as const;

  let t = process.hrtime.bigint();
  const plan = await planRetention(registry, repository, options);
  const planMs = Number(process.hrtime.bigint() - t) / 1e6;
  const planRequests = ecr.total();
  ecr.requests.clear();
  t = process.hrtime.bigint();
  const result = await applyRetention(registry, repository, plan);
  const applyMs = Number(process.hrtime.bigint() - t) / 1e6;
  const reads = ecr.requests.get('BatchGetImageCommand') ?? 0;
  const other = ecr.total() - reads;
  // Reads go 8 at a time; listings and deletes one after another.
  const estimate = ((planRequests / READ_CONCURRENCY + reads / READ_CONCURRENCY + other) * LATENCY_MS) / 1000;
  const perCommand = [...ecr.requests].map(([name, n]) => `${name.replace('Command', '')} ${n}`).join(', ');
  console.log(`retention of ${tags} tags (${releases} releases, keep 10 date tags): plan ${planRequests} requests in ${planMs.toFixed(0)} ms; ` +
    `apply ${result.deleted.length} deletes in ${ecr.total()} requests (${perCommand}), ${(other / result.deleted.length).toFixed(3)} requests per delete besides reading each manifest once, ${applyMs.toFixed(0)} ms here; ` +
    `at ${LATENCY_MS} ms a request: about ${estimate.toFixed(0)} s of the Lambda's 900 s`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
