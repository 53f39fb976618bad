/**
 * aws-sdk-client-mock stand-ins for a deployed factory: the warehouse's SSM
 * parameters, its source bucket and its pipelines.
 */
import { CodePipelineClient, GetPipelineStateCommand } from '@aws-sdk/client-codepipeline';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadBucketCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { parameterNames } from '@devcontainer-factory/core';

// The mocked clients still resolve a region (lib-storage builds the object's URL from it).
process.env.AWS_REGION = 'eu-west-1';

export const REGISTRY = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
export const SOURCE_BUCKET = 'dcf-source-123';

export const ssmMock = mockClient(SSMClient);
export const s3Mock = mockClient(S3Client);
export const codePipelineMock = mockClient(CodePipelineClient);

/** The parameters a warehouse writes for `namespace`. */
export function deployedFactory(namespace = 'devcontainers', bucket = SOURCE_BUCKET): void {
  const names = parameterNames(namespace);
  ssmMock.on(GetParametersCommand).callsFake((input: { Names: string[] }) => {
    const known: Record<string, string> = { [names.sourceBucketName]: bucket, [names.registry]: REGISTRY };
    return {
      Parameters: input.Names.filter((n) => known[n]).map((n) => ({ Name: n, Value: known[n], Type: 'String' })),
      InvalidParameters: input.Names.filter((n) => !known[n]),
    };
  });
}

export const STAGES = ['Source', 'Prepare', 'Build', 'Manifest', 'Test', 'Release'];

export function resetMocks(): void {
  ssmMock.reset();
  s3Mock.reset();
  codePipelineMock.reset();
  deployedFactory();
  s3Mock.on(HeadBucketCommand).resolves({});
  s3Mock.on(PutObjectCommand).resolves({ VersionId: 'v-1', ETag: '"etag"' });
  codePipelineMock.on(GetPipelineStateCommand).resolves({ stageStates: STAGES.map((stageName) => ({ stageName, actionStates: [{ actionName: stageName }] })) });
}

/** Every S3 write the tests have seen: must stay 0 for bad input. */
export function s3Writes(): number {
  return (
    s3Mock.commandCalls(PutObjectCommand).length +
    s3Mock.commandCalls(CreateMultipartUploadCommand).length +
    s3Mock.commandCalls(UploadPartCommand).length +
    s3Mock.commandCalls(CompleteMultipartUploadCommand).length
  );
}
