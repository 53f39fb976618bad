import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CodePipelineClient, PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { BatchGetImageCommand, DescribeImageScanFindingsCommand, ECRClient, ListImagesCommand, PutImageCommand } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { DEFAULT_VULNERABILITY_POLICY, RELEASE_GATE_ENVIRONMENT, formatReleaseGateSettings, type VulnerabilityPolicy } from '@devcontainer-factory/core';
import { runReleaseJob } from '../../src/handlers/release';
import { REGISTRY_HOST, REPOSITORY, digestOf, jobEvent, noWait, quietLog, sdkError } from './job-fixtures';

// Release with the vulnerability gate on, against mocked ECR answering DescribeImageScanFindings
// with findings recorded from ECR basic scanning.

const codepipeline = mockClient(CodePipelineClient);
const ecr = mockClient(ECRClient);
const BUILD = 'fedcba9876543210';
const STAGING = 'devcontainers/builds/python';
const AMD64 = digestOf('amd64 image');
const ARM64 = digestOf('arm64 image');
const INDEX = JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.index.v1+json',
  manifests: [
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: AMD64, size: 100, platform: { os: 'linux', architecture: 'amd64' } },
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: ARM64, size: 100, platform: { os: 'linux', architecture: 'arm64' } },
  ],
});
const recorded = JSON.parse(readFileSync(join(__dirname, '../../../core/test/supply-chain/fixtures/ecr-basic-findings.json'), 'utf8')) as object;
const NOW = new Date('2026-12-02T09:00:00Z');
const sleeps: number[] = [];
const clients = {
  codepipeline: new CodePipelineClient({ region: 'eu-west-1' }),
  ecr: new ECRClient({ region: 'eu-west-1' }),
  now: () => NOW,
  sleep: async (ms: number) => {
    sleeps.push(ms);
  },
  retry: noWait,
  log: quietLog,
};
const params = {
  registryHost: REGISTRY_HOST,
  repository: REPOSITORY,
  stagingRepository: STAGING,
  buildId: BUILD,
  version: '1.2.3',
  rules: ['latest', 'semver'],
};
const env = (policy: VulnerabilityPolicy, maxWaitSeconds = 600) => ({
  [RELEASE_GATE_ENVIRONMENT]: formatReleaseGateSettings({ policy, maxWaitSeconds }, 'python'),
});
const allowing = (expires: string): VulnerabilityPolicy => ({
  ...DEFAULT_VULNERABILITY_POLICY,
  allow: [{ id: 'CVE-2024-45490', reason: 'expat never parses untrusted XML here', expires }],
});

beforeEach(() => {
  codepipeline.reset();
  ecr.reset();
  sleeps.length = 0;
  codepipeline.onAnyCommand().resolves({});
  // The build is in staging and was promoted by an earlier try whose tagging failed: Release
  // gates it on its staging findings, then tags it (a promotion's blob copy on a real
  // registry is tested in core).
  // Any other tag or digest is not there, as ECR answers (the referrers fallback tags among them).
  ecr.on(BatchGetImageCommand).resolves({ images: [], failures: [{ failureCode: 'ImageNotFound' }] });
  ecr.on(BatchGetImageCommand, { imageIds: [{ imageTag: BUILD }] }).resolves({
    images: [
      { imageId: { imageTag: BUILD, imageDigest: digestOf(INDEX) }, imageManifest: INDEX, imageManifestMediaType: 'application/vnd.oci.image.index.v1+json' },
    ],
  });
  ecr.on(ListImagesCommand).resolves({ imageIds: [{ imageTag: BUILD, imageDigest: digestOf(INDEX) }] });
  ecr.on(PutImageCommand).callsFake((input) => ({ image: { imageId: { imageDigest: input.imageDigest, imageTag: input.imageTag } } }));
  ecr.on(DescribeImageScanFindingsCommand, { repositoryName: STAGING, imageId: { imageDigest: AMD64 } }).resolves(recorded);
  ecr
    .on(DescribeImageScanFindingsCommand, { repositoryName: STAGING, imageId: { imageDigest: ARM64 } })
    .resolves({ imageScanStatus: { status: 'COMPLETE' }, imageScanFindings: { findings: [] } });
});

const failure = () => codepipeline.commandCalls(PutJobFailureResultCommand)[0]?.args[0].input.failureDetails?.message;

test('GIVEN recorded findings with a CRITICAL on amd64 WHEN Release runs THEN the job fails naming the finding and platform, and nothing is put', async () => {
  await runReleaseJob(jobEvent(params), clients, env(DEFAULT_VULNERABILITY_POLICY));

  expect(codepipeline.commandCalls(PutJobSuccessResultCommand)).toHaveLength(0);
  // The refusal is the message's first line: the summary the failure notification carries leads with it.
  expect(failure()).toMatch(/^release of devcontainers\/images\/python refused by the vulnerability gate: nothing was promoted and no tag moved\n/);
  expect(failure()).toContain('linux/amd64: 1 finding(s)');
  expect(failure()).toContain('CRITICAL CVE-2024-45490 in expat 2.5.0-1');
  expect(ecr.commandCalls(PutImageCommand)).toHaveLength(0);
});

test('GIVEN the same findings and an unexpired allowance WHEN Release runs THEN the build is promoted and tagged, and the summary reports the gate', async () => {
  await runReleaseJob(jobEvent(params), clients, env(allowing('2027-01-31')));

  expect(failure()).toBeUndefined();
  expect(ecr.commandCalls(PutImageCommand).map((c) => c.args[0].input.imageTag)).toEqual(expect.arrayContaining(['1.2.3', 'latest']));
  const summary = codepipeline.commandCalls(PutJobSuccessResultCommand)[0].args[0].input.executionDetails?.summary;
  expect(summary).toContain('vulnerability gate: linux/amd64: 0 blocking, 1 allowed (CVE-2024-45490)');
});

test('GIVEN an allowance that has expired WHEN Release runs THEN it is refused again', async () => {
  await runReleaseJob(jobEvent(params), clients, env(allowing('2026-11-30')));
  expect(failure()).toContain('(its allowance expired on 2026-11-30)');
  expect(ecr.commandCalls(PutImageCommand)).toHaveLength(0);
});

test('GIVEN a scan ECR has not started WHEN Release runs THEN it waits up to the bound, then fails saying what to check', async () => {
  ecr.on(DescribeImageScanFindingsCommand).rejects(sdkError('ScanNotFoundException'));
  await runReleaseJob(jobEvent(params), clients, env(DEFAULT_VULNERABILITY_POLICY, 30));
  expect(failure()).toMatch(/by ECR image scanning has not started after 30 s \(the gate's bound\): check that scan on push covers the staging repository/);
  expect(sleeps).toEqual([10_000, 10_000, 10_000]);
  expect(ecr.commandCalls(PutImageCommand)).toHaveLength(0);
});

test.each([
  [
    'a null finding',
    { imageScanStatus: { status: 'COMPLETE' }, imageScanFindings: { findings: [null] } },
    'imageScanFindings.findings[0] is null, not an object',
  ],
  [
    'findings as one object',
    { imageScanStatus: { status: 'COMPLETE' }, imageScanFindings: { findings: { name: 'CVE-2024-45490', severity: 'CRITICAL' } } },
    'imageScanFindings.findings is an object ({"name":"CVE-2024-45490","severity":"CRITICAL"}), not a list',
  ],
  [
    'a severity that is a number',
    { imageScanStatus: { status: 'COMPLETE' }, imageScanFindings: { findings: [{ name: 'CVE-2024-45490', severity: 9.8 }] } },
    'imageScanFindings.findings[0].severity is a number (9.8), not a string',
  ],
])(
  'GIVEN ECR answering with %s WHEN Release runs THEN the job fails naming the image, platform, page and field, and nothing is put',
  async (_, answer, field) => {
    ecr.on(DescribeImageScanFindingsCommand, { repositoryName: STAGING, imageId: { imageDigest: AMD64 } }).resolves(answer as object);
    await runReleaseJob(jobEvent(params), clients, env(DEFAULT_VULNERABILITY_POLICY));

    expect(codepipeline.commandCalls(PutJobSuccessResultCommand)).toHaveLength(0);
    expect(failure()).toContain(
      `the vulnerability gate cannot judge the scan findings of ${STAGING}@${AMD64} (linux/amd64) from ECR image scanning, page 1: ${field}`,
    );
    expect(failure()).toContain('nothing was promoted and no tag moved');
    expect(ecr.commandCalls(PutImageCommand)).toHaveLength(0);
  },
);

test('GIVEN ECR answering with a severity it does not document WHEN Release runs THEN the gate refuses it as UNKNOWN and nothing is put', async () => {
  ecr
    .on(DescribeImageScanFindingsCommand, { repositoryName: STAGING, imageId: { imageDigest: AMD64 } })
    .resolves({ imageScanStatus: { status: 'COMPLETE' }, imageScanFindings: { findings: [{ name: 'CVE-2024-0001', severity: 'SEVERE' as 'HIGH' }] } });
  await runReleaseJob(jobEvent(params), clients, env(DEFAULT_VULNERABILITY_POLICY));
  expect(failure()).toContain('UNKNOWN severity "SEVERE" CVE-2024-0001');
  expect(ecr.commandCalls(PutImageCommand)).toHaveLength(0);
});

test('GIVEN no gate settings WHEN Release runs THEN it releases and says the gate is off', async () => {
  await runReleaseJob(jobEvent(params), clients, {});
  expect(ecr.commandCalls(DescribeImageScanFindingsCommand)).toHaveLength(0);
  const summary = codepipeline.commandCalls(PutJobSuccessResultCommand)[0].args[0].input.executionDetails?.summary;
  expect(summary).toContain('vulnerability gate off (the staging repository is not scanned)');
});
