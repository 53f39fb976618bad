/**
 * A push the factory refuses: the source bucket takes configurations only from the roles
 * and users granted push, so a denial says how to be granted it.
 */
import { HeadBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetParametersCommand } from '@aws-sdk/client-ssm';
import { ExitCode } from '../src';
import { codePipelineMock, resetMocks, s3Mock, ssmMock } from './support/factory-mocks';
import { IMAGE_FILES, Workspace } from './support/harness';
import { GetPipelineStateCommand } from '@aws-sdk/client-codepipeline';

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
  resetMocks();
});
afterEach(() => ws.cleanup());

const denied = (message: string, name = 'AccessDenied', status = 403) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
const GRANT_HINT =
  /the factory takes configurations only from the roles and users granted push: ask the platform team to add your role's ARN .* to its pushers \(nx deploy factory -c pushers=…,<role ARN>; in CDK, warehouse\.grantPushConfigurations\(role\)\)/;

test('an upload the bucket policy denies says that the user needs to be granted push, and how', async () => {
  // GIVEN a role that is no pusher: the source bucket's policy denies its PutObject
  ws.write('python', IMAGE_FILES);
  s3Mock
    .on(PutObjectCommand)
    .rejects(
      denied(
        'User: arn:aws:sts::123456789012:assumed-role/Developer/alice is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::dcf-source-123/devcontainers/images/python.zip" with an explicit deny in a resource-based policy',
      ),
    );
  // WHEN it pushes
  const { code, stderr } = await ws.run(['push', 'python']);
  // THEN exit 3 with what AWS said and what to do
  expect(code).toBe(ExitCode.Aws);
  expect(stderr).toContain(
    'error: AWS denied access while uploading to s3://dcf-source-123/devcontainers/images/python.zip (AccessDenied: User: arn:aws:sts::123456789012:assumed-role/Developer/alice is not authorized',
  );
  expect(stderr).toMatch(GRANT_HINT);
});

test.each<[string, () => void]>([
  ['the parameters', () => ssmMock.on(GetParametersCommand).rejects(denied('not authorized to perform: ssm:GetParameters', 'AccessDeniedException', 400))],
  ['the source bucket', () => s3Mock.on(HeadBucketCommand).rejects(denied('Forbidden', 'Forbidden'))],
])('a push denied reading %s gives the same advice, before anything is uploaded', async (_what, deny) => {
  ws.write('python', IMAGE_FILES);
  deny();
  const { code, stderr } = await ws.run(['push', 'python']);
  expect(code).toBe(ExitCode.Aws);
  expect(stderr).toMatch(GRANT_HINT);
  expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
});

test('other commands keep the general advice', async () => {
  codePipelineMock.on(GetPipelineStateCommand).rejects(denied('not authorized to perform: codepipeline:GetPipelineState', 'AccessDeniedException', 400));
  const { stderr } = await ws.run(['status', 'python']);
  expect(stderr).not.toMatch(/granted push/);
});
