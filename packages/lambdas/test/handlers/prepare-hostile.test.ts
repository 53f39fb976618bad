import { CodePipelineClient, PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { BatchGetImageCommand, ECRClient, ListImagesCommand } from '@aws-sdk/client-ecr';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { runPrepareJob } from '../../src/handlers/prepare';
import { craftZip, deflateBomb, type CraftedEntry } from '@devcontainer-factory/testing';
import { REGISTRY_HOST, REPOSITORY, jobEvent, prepareClients, s3Body } from './job-fixtures';

const codepipeline = mockClient(CodePipelineClient);
const ecr = mockClient(ECRClient);
const s3 = mockClient(S3Client);
const clients = prepareClients();
const params = { registryHost: REGISTRY_HOST, repository: REPOSITORY, baseRepositories: [] as string[], namespace: 'devcontainers' };
const config: CraftedEntry = { name: '.devcontainer/devcontainer.json', data: '{ "image": "debian:12" }', mode: 0o100644 };

beforeEach(() => {
  codepipeline.reset();
  ecr.reset();
  s3.reset();
  codepipeline.onAnyCommand().resolves({});
  ecr.on(BatchGetImageCommand).resolves({ images: [], failures: [{ failureCode: 'ImageNotFound' }] });
  ecr.on(ListImagesCommand).resolves({ imageIds: [] });
});

/** `n` tiny stored entries after the configuration, then `last`. */
function withEntries(n: number, last: CraftedEntry): CraftedEntry[] {
  const entries: CraftedEntry[] = [config];
  for (let i = 0; i < n; i++) entries.push({ name: `f/${i}`, data: '', method: 0 });
  return [...entries, last];
}

const bomb = deflateBomb(300 * 1024 * 1024);

test.each<[string, () => Uint8Array, RegExp]>([
  ['a zip-slip entry', () => craftZip([config, { name: '../../escape.txt', data: 'x' }]), /\.\.\/\.\.\/escape\.txt: unsafe entry/],
  [
    '70,001 entries without ZIP64',
    () => craftZip(withEntries(69_999, { name: '../../escape.txt', data: 'x' })),
    /\(source zip\): is not a readable zip: the central directory holds more entries than the 4465/,
  ],
  ['a duplicate devcontainer.json', () => craftZip([config, { ...config, data: '{ "image": "evil" }' }]), /devcontainer\.json: appears more than once/],
  [
    'a central name that is not the local one',
    () => craftZip([config, { name: 'a.txt', data: 'a', local: { name: '../a.txt' } }]),
    /the local header of a\.txt names another file/,
  ],
  [
    'a deflate bomb that lies about its size',
    () => craftZip([{ ...config, compressed: bomb.compressed, size: 50 * 1024 * 1024, crc: 0 }]),
    /inflates to more than the 50\.0 MiB the zip directory declares/,
  ],
  ['a devcontainer.json nested 100,000 deep', () => craftZip([{ ...config, data: `${'['.repeat(100_000)}` }]), /nested more than 64 levels deep/],
])('Prepare fails the job, with no build id, for %s', async (_name, zip, message) => {
  s3.on(GetObjectCommand).resolves(s3Body(zip()));
  const outcome = await runPrepareJob(jobEvent(params), clients);
  expect(outcome.status).toBe('failed');
  expect(codepipeline.commandCalls(PutJobSuccessResultCommand)).toHaveLength(0);
  expect(codepipeline.commandCalls(PutJobFailureResultCommand)[0].args[0].input.failureDetails!.message).toMatch(message);
});
