import type { Duration } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';

/**
 * The settings every warehouse bucket starts from: no public access, TLS only,
 * owner-enforced object ownership, aborted multipart uploads cleaned up. Callers
 * add encryption, versioning and lifecycle on top.
 */
export function secureBucketProps(abortIncompleteUploadsAfter: Duration): s3.BucketProps {
  return {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    lifecycleRules: [{ id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: abortIncompleteUploadsAfter }],
  };
}

/** Lifecycle JSON of an ECR repository: expire untagged images after some days; never select a tagged one. */
export function untaggedOnlyLifecyclePolicy(days: number): string {
  return JSON.stringify({
    rules: [
      {
        rulePriority: 1,
        description: `Expire untagged images ${days} days after push; tagged images are never selected`,
        selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: days },
        action: { type: 'expire' },
      },
    ],
  });
}
