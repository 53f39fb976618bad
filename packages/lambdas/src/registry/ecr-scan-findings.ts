import { DescribeImageScanFindingsCommand, type ECRClient } from '@aws-sdk/client-ecr';
import { withRetry, type RetryOptions, type ScanFindingsResponse, type ScanFindingsSource } from '@devcontainer-factory/core';

/** The most findings ECR returns a page. */
const PAGE_SIZE = 1000;

/**
 * The vulnerability gate's findings from ECR (`DescribeImageScanFindings`): basic
 * scanning's or, with enhanced scanning, Amazon Inspector's. An image ECR has no scan
 * of yet (`ScanNotFoundException`) is `undefined`, so the gate waits for its scan on push.
 * ECR's answer is passed on as it came: the gate checks the shape of every page
 * (core's `checkScanFindingsShape`) and refuses one it cannot read.
 */
export class EcrScanFindings implements ScanFindingsSource {
  readonly name = 'ECR image scanning';

  constructor(
    private readonly client: ECRClient,
    private readonly retry?: RetryOptions,
    private readonly registryId?: string,
  ) {}

  async findings(repository: string, digest: string, nextToken?: string): Promise<(ScanFindingsResponse & { nextToken?: string }) | undefined> {
    try {
      const res = await withRetry(
        () =>
          this.client.send(
            new DescribeImageScanFindingsCommand({
              registryId: this.registryId,
              repositoryName: repository,
              imageId: { imageDigest: digest },
              maxResults: PAGE_SIZE,
              nextToken,
            }),
          ),
        this.retry,
      );
      return res as ScanFindingsResponse & { nextToken?: string };
    } catch (e) {
      if ((e as { name?: string }).name === 'ScanNotFoundException') return undefined;
      throw e;
    }
  }
}
