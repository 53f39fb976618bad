import { Duration } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';

/** How long an incomplete multipart upload may linger in any warehouse bucket. */
const ABORT_INCOMPLETE_UPLOADS_AFTER = Duration.days(1);

/**
 * The settings every warehouse bucket starts from: no public access, TLS only,
 * owner-enforced object ownership, incomplete multipart uploads aborted after a
 * day, followed by the bucket's own lifecycle rules. Callers add encryption and
 * versioning on top.
 */
export function secureBucketProps(...lifecycleRules: s3.LifecycleRule[]): s3.BucketProps {
  return {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    lifecycleRules: [{ id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: ABORT_INCOMPLETE_UPLOADS_AFTER }, ...lifecycleRules],
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

/**
 * The lifecycle of staging repositories (`<ns>/builds/*`): every image, tagged or not,
 * expires `days` after push. Release has promoted what it released into the release
 * repository by then; a build still wanted is rebuilt by its next pipeline run.
 */
export function stagingLifecyclePolicy(days: number): string {
  return JSON.stringify({
    rules: [
      {
        rulePriority: 1,
        description: `Expire every staged build ${days} days after push; releases live in the release repositories`,
        selection: { tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'days', countNumber: days },
        action: { type: 'expire' },
      },
    ],
  });
}
