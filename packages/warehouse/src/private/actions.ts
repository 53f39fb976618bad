/** IAM action lists behind the warehouse's grant methods: one place, no policy JSON in pipelines. */

/** Registry-wide: `docker login`. ECR allows no narrower resource. */
export const ECR_AUTH_ACTIONS = ['ecr:GetAuthorizationToken'] as const;

/** Read images and their layers. */
export const ECR_PULL_ACTIONS = [
  'ecr:BatchCheckLayerAvailability',
  'ecr:BatchGetImage',
  'ecr:GetDownloadUrlForLayer',
  'ecr:DescribeImages',
  'ecr:ListImages',
] as const;

/** Pull an upstream image through a pull-through cache rule: ECR imports it into a repository it creates on first use. */
export const ECR_PULL_THROUGH_ACTIONS = ['ecr:BatchImportUpstreamImage', 'ecr:CreateRepository'] as const;

/** Upload layers and manifests; `CreateRepository` lets a first push create the repository from the creation template. */
export const ECR_PUSH_ACTIONS = [
  ...ECR_PULL_ACTIONS,
  'ecr:InitiateLayerUpload',
  'ecr:UploadLayerPart',
  'ecr:CompleteLayerUpload',
  'ecr:PutImage',
  'ecr:CreateRepository',
  'ecr:DescribeRepositories',
] as const;

/** Point tags at manifests that already exist: no layer upload, no repository creation. */
export const ECR_RETAG_ACTIONS = ['ecr:BatchGetImage', 'ecr:ListImages', 'ecr:PutImage'] as const;

/** Read manifests and the tags that point at them, through the ECR API. */
export const ECR_READ_MANIFEST_ACTIONS = ['ecr:BatchGetImage', 'ecr:ListImages'] as const;

/** Read one uploaded configuration (every version of it). */
export const S3_READ_SOURCE_ACTIONS = ['s3:GetObject', 's3:GetObjectVersion'] as const;

/** What an S3 source action of CodePipeline needs on its bucket, besides reading the object. */
export const S3_SOURCE_BUCKET_ACTIONS = ['s3:GetBucketVersioning', 's3:GetBucketLocation'] as const;

/** Upload a configuration. */
export const S3_WRITE_SOURCE_ACTIONS = ['s3:PutObject', 's3:AbortMultipartUpload'] as const;

/** Decrypt objects encrypted with the S3 key. */
export const KMS_DECRYPT_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey'] as const;

/** Encrypt objects with the S3 key. */
export const KMS_ENCRYPT_ACTIONS = ['kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Decrypt', 'kms:DescribeKey'] as const;

/**
 * What ECR's repository-creation role needs on the ECR key to create an encrypted
 * repository besides the grant itself: describe the key, retire the grant.
 */
export const KMS_ECR_KEY_ACTIONS = ['kms:RetireGrant', 'kms:DescribeKey'] as const;

/** The grant ECR makes for each repository it creates encrypted: given only with `kms:GrantIsForAWSResource` true (ECR, not the role's own session, asks). */
export const KMS_ECR_GRANT_ACTIONS = ['kms:CreateGrant'] as const;

/** What a publisher to an encrypted SNS topic needs on its key: a data key to encrypt with, and to decrypt it (SNS checks both). */
export const KMS_TOPIC_PUBLISH_ACTIONS = ['kms:Decrypt', 'kms:GenerateDataKey*'] as const;

/** Read the warehouse's SSM parameters. */
export const SSM_READ_ACTIONS = ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath'] as const;
