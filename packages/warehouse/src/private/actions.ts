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

/**
 * Every change of a source object that a principal not granted to write configurations
 * is denied by the source bucket's policy: a new object or version (a single or multipart
 * upload, a copy into the bucket, a replica), a deleted object or version (which would
 * bring back the previous configuration), its ACL and its tags. Reads stay with IAM.
 */
export const S3_SOURCE_OBJECT_CHANGE_ACTIONS = [
  's3:PutObject',
  's3:PutObjectAcl',
  's3:PutObjectVersionAcl',
  's3:PutObjectTagging',
  's3:PutObjectVersionTagging',
  's3:DeleteObject',
  's3:DeleteObjectVersion',
  's3:DeleteObjectTagging',
  's3:DeleteObjectVersionTagging',
  's3:AbortMultipartUpload',
  's3:ReplicateObject',
  's3:ReplicateDelete',
] as const;

/** `dcf status`: HeadObject of a pipeline's configuration, which tells a pipeline waiting for its first upload from a failed one. */
export const S3_HEAD_SOURCE_ACTIONS = ['s3:GetObject'] as const;

/** `dcf push`: HeadBucket of the source bucket; it also makes S3 answer 404, not 403, for a configuration not uploaded yet. */
export const S3_LIST_SOURCE_BUCKET_ACTIONS = ['s3:ListBucket'] as const;

/** SSE-KMS of an upload, through S3: a data key, and Decrypt, which S3 asks for to complete a multipart upload (a zip over 5 MiB). */
export const KMS_UPLOAD_ACTIONS = ['kms:GenerateDataKey', 'kms:Decrypt'] as const;

/** What `dcf` reads of the warehouse's parameters: the source bucket's name and the registry, in one call. */
export const SSM_DCF_READ_ACTIONS = ['ssm:GetParameters'] as const;

/** `dcf status`: list the pipelines of the account (CodePipeline allows no resource narrower than `*`). */
export const CODEPIPELINE_LIST_ACTIONS = ['codepipeline:ListPipelines'] as const;

/** `dcf push --wait` and `dcf status`: a pipeline's stages, its executions and their actions. */
export const CODEPIPELINE_READ_ACTIONS = [
  'codepipeline:GetPipelineState',
  'codepipeline:ListPipelineExecutions',
  'codepipeline:GetPipelineExecution',
  'codepipeline:ListActionExecutions',
] as const;

/** `dcf list`: list the registry's repositories (ECR authorizes a listing on `repository/*`). */
export const ECR_LIST_REPOSITORIES_ACTIONS = ['ecr:DescribeRepositories'] as const;

/** `dcf list`: the tagged images of a release or feature repository. */
export const ECR_DESCRIBE_IMAGES_ACTIONS = ['ecr:DescribeImages'] as const;
