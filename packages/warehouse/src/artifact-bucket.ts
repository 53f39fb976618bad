import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { acknowledgeNag } from './nag';
import { secureBucketProps } from './private/secure-defaults';

export interface ArtifactBucketProps {
  /** The KMS key of the artifacts (the pipelines' CodeBuild projects decrypt with it). */
  readonly encryptionKey: kms.IKey;
  /**
   * How long an artifact lives. Whole days.
   * @default Duration.days(7)
   */
  readonly retention?: Duration;
  /**
   * What happens to the bucket when the stack is deleted (`DESTROY` deletes it only when it is empty).
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * CodePipeline's artifact store for a pipeline that is given no warehouse: the
 * warehouse's secure bucket defaults (public access blocked, TLS 1.2 only,
 * owner-enforced, incomplete uploads aborted after a day), SSE-KMS with the given key
 * (bucket key on), objects expire after `retention`.
 */
export class ArtifactBucket extends s3.Bucket {
  constructor(scope: Construct, id: string, props: ArtifactBucketProps) {
    const retention = props.retention ?? Duration.days(7);
    super(scope, id, {
      ...secureBucketProps({ id: 'expire-artifacts', expiration: retention }),
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    acknowledgeNag(
      this,
      'S1',
      `holds only CodePipeline's intermediate artifacts, read and written by the pipeline's own roles, and expires them after ${retention.toHumanString()}; pass an artifact bucket of your own to log access to it`,
    );
  }
}
