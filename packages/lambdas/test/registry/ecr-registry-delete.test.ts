import { BatchDeleteImageCommand, ECRClient, ECRServiceException, RepositoryNotFoundException } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { EcrRegistry } from '../../src/registry/ecr-registry';
import { RegistryError } from '@devcontainer-factory/core';

const ecr = mockClient(ECRClient);
const REPO = 'devcontainers/images/python';
const HOST = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const DIGEST = `sha256:${'ab'.repeat(32)}`;
const metadata = { httpStatusCode: 400, attempts: 1, totalRetryDelay: 0 };

function makeRegistry() {
  return new EcrRegistry({
    client: new ECRClient({ region: 'eu-west-1' }),
    registryId: '123456789012',
    host: HOST,
    retry: { sleep: async () => undefined, random: () => 0.5 },
  });
}

beforeEach(() => ecr.reset());

describe('EcrRegistry.deleteManifest', () => {
  test('GIVEN an image WHEN deleted THEN BatchDeleteImage is called once with its digest, never a tag', async () => {
    // GIVEN
    ecr.on(BatchDeleteImageCommand).resolves({ imageIds: [{ imageDigest: DIGEST, imageTag: 'latest' }], failures: [] });

    // WHEN
    await makeRegistry().deleteManifest(REPO, DIGEST);

    // THEN
    expect(ecr.commandCalls(BatchDeleteImageCommand).map((c) => c.args[0].input)).toEqual([
      { registryId: '123456789012', repositoryName: REPO, imageIds: [{ imageDigest: DIGEST }] },
    ]);
  });

  test('GIVEN an image that is gone already (ImageNotFound) or no repository WHEN deleted THEN it succeeds', async () => {
    ecr
      .on(BatchDeleteImageCommand)
      .resolvesOnce({
        imageIds: [],
        failures: [{ imageId: { imageDigest: DIGEST }, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' }],
      })
      .rejectsOnce(new RepositoryNotFoundException({ message: 'no such repository', $metadata: metadata }));
    const registry = makeRegistry();
    await expect(registry.deleteManifest(REPO, DIGEST)).resolves.toBeUndefined();
    await expect(registry.deleteManifest(REPO, DIGEST)).resolves.toBeUndefined();
    expect(ecr.commandCalls(BatchDeleteImageCommand)).toHaveLength(2);
  });

  test('GIVEN an image an index still references WHEN deleted THEN the failure is reported with its code and says to delete the index first', async () => {
    ecr.on(BatchDeleteImageCommand).resolves({
      imageIds: [],
      failures: [
        { imageId: { imageDigest: DIGEST }, failureCode: 'ImageReferencedByManifestList', failureReason: 'Requested image referenced by a manifest list' },
      ],
    });
    const failing = makeRegistry().deleteManifest(REPO, DIGEST);
    await expect(failing).rejects.toThrow(RegistryError);
    await expect(failing).rejects.toThrow(
      `ECR BatchDeleteImage of ${REPO}@${DIGEST} failed: ImageReferencedByManifestList: Requested image referenced by a manifest list (an image index still references it: delete the index first)`,
    );
  });

  test('GIVEN a throttled call WHEN deleted THEN it is retried; GIVEN access denied THEN the error keeps its cause', async () => {
    ecr
      .on(BatchDeleteImageCommand)
      .rejectsOnce(new ECRServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: metadata, message: 'Rate exceeded' }))
      .resolvesOnce({ imageIds: [{ imageDigest: DIGEST }] });
    await makeRegistry().deleteManifest(REPO, DIGEST);
    expect(ecr.commandCalls(BatchDeleteImageCommand)).toHaveLength(2);

    ecr.reset();
    const denied = new ECRServiceException({
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: metadata,
      message: 'not authorized to perform ecr:BatchDeleteImage',
    });
    ecr.on(BatchDeleteImageCommand).rejects(denied);
    const failing = makeRegistry().deleteManifest(REPO, DIGEST);
    await expect(failing).rejects.toThrow(/ECR BatchDeleteImage of devcontainers\/images\/python@sha256:a+b.* failed: AccessDeniedException: not authorized/);
    await expect(failing).rejects.toMatchObject({ cause: denied });
  });

  test('GIVEN a tag instead of a digest WHEN deleted THEN it refuses without a call', async () => {
    await expect(makeRegistry().deleteManifest(REPO, 'latest')).rejects.toThrow(/deletes go by digest/);
    expect(ecr.commandCalls(BatchDeleteImageCommand)).toHaveLength(0);
  });
});
