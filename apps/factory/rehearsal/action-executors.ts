/**
 * What each kind of pipeline action does in a rehearsal, with the credentials AWS would
 * give it, so that every call it makes meets the policies of the synthesized templates:
 *
 * - S3 source: CodePipeline's role reads the uploaded object (its newest version) from
 *   the source bucket and stores it in the artifact bucket under the artifact key.
 * - Lambda invoke: CodePipeline's role may invoke the function; the function runs its
 *   bundle from the assembly with a job event built from the action's configuration: its
 *   input artifacts, where to write its output artifacts (which later actions then get),
 *   the artifact store's key, and artifact credentials as CodePipeline hands them out: a
 *   session of the pipeline's role whose session policy allows reading the input
 *   artifacts, writing the output artifacts and the artifact key's use through S3, nothing
 *   else (each call is allowed only where the role's policies allow it too).
 * - CodeBuild: CodePipeline's role may start the project; CodeBuild assumes the project's
 *   role, downloads the input artifact, and does what the project's buildspec does to the
 *   registry (see {@link CodeBuildWork}).
 */
import { randomUUID } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import type { CredentialBook } from './credentials';
import { assumedRoleArn, type PolicyDocument } from './iam';
import { invokeFunction, writeLogs, type RehearsalFunction } from './lambda-runner';
import { ActionFailedError, type ActionContext, type ActionExecutor, type ActionOutcome, type ArtifactLocation } from './pipeline-engine';

/** A CodeBuild project as the template declares it, resolved. */
export interface RehearsalProject {
  readonly name: string;
  readonly arn: string;
  readonly roleArn: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly buildSpec: string;
  readonly timeoutMinutes: number;
  readonly logs?: { readonly group: string; readonly streamPrefix?: string };
}

/**
 * What a project's build does, given its environment, its primary source's zip, its
 * secondary sources' zips by artifact name (CodeBuild unpacks each at
 * `$CODEBUILD_SRC_DIR_<name>`) and the project role's AWS access.
 */
export type CodeBuildWork = (run: {
  project: RehearsalProject;
  environment: Readonly<Record<string, string>>;
  source: Buffer;
  secondarySources: ReadonlyMap<string, Buffer>;
  aws: RoleAws;
}) => Promise<string>;

/** AWS as one role sees it through the gateway. */
export interface RoleAws {
  readonly principal: string;
  readonly s3: S3Client;
  readonly ecr: ECRClient;
  /** The variables that make the AWS SDK and CLI sign as the role and reach the gateway (what CodeBuild gives a build). */
  readonly environment: Readonly<Record<string, string>>;
  /** A registry login for the role (`aws ecr get-login-password`): user `AWS` and the token. */
  registryLogin(): Promise<{ username: string; password: string }>;
}

export interface ExecutorProps {
  readonly account: string;
  readonly region: string;
  readonly credentials: CredentialBook;
  /** The gateway's endpoint. */
  readonly endpoint: string;
  readonly registryHost: string;
  /** Checks a call that does not go through the gateway (Lambda's and CodeBuild's own APIs, role trust). */
  readonly authorize: (principal: string, action: string, resource: string) => Promise<void>;
  readonly assume: (service: string, roleArn: string, sourceArn?: string) => Promise<void>;
  readonly functions: ReadonlyMap<string, RehearsalFunction & { readonly arn: string }>;
  readonly projects: ReadonlyMap<string, RehearsalProject>;
  /** What a project's build does; the rehearsal picks it from the project's buildspec. */
  readonly work: (project: RehearsalProject) => CodeBuildWork;
  /** Where sessions with a session policy are declared (the IAM model), for the artifact credentials of Lambda jobs. */
  readonly sessions: { declareSession(sessionArn: string, policy: PolicyDocument): void };
}

/**
 * The session policy of a Lambda job's artifact credentials: get the input artifacts, put
 * the output artifacts, and use the artifact store's key through S3 (the object key ARN,
 * or any key when the store names its key otherwise), nothing else.
 */
export function artifactSessionPolicy(props: {
  region: string;
  inputs: readonly ArtifactLocation[];
  outputs: readonly ArtifactLocation[];
  artifactKey?: string;
}): PolicyDocument {
  const arns = (list: readonly ArtifactLocation[]) => list.map((l) => `arn:aws:s3:::${l.bucket}/${l.key}`);
  const statements = [
    ...(props.inputs.length ? [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: arns(props.inputs) }] : []),
    ...(props.outputs.length ? [{ Effect: 'Allow', Action: ['s3:PutObject'], Resource: arns(props.outputs) }] : []),
    ...(props.artifactKey
      ? [
          {
            Effect: 'Allow',
            Action: ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:Encrypt', 'kms:DescribeKey'],
            Resource: /^arn:[^:]+:kms:[^:]+:\d{12}:key\//.test(props.artifactKey) ? props.artifactKey : '*',
            Condition: { StringEquals: { 'kms:ViaService': `s3.${props.region}.amazonaws.com` } },
          },
        ]
      : []),
  ];
  // A session policy that allows nothing denies everything, as an empty allow list would.
  return { Version: '2012-10-17', Statement: statements.length ? statements : [{ Effect: 'Deny', Action: '*', Resource: '*' }] } as PolicyDocument;
}

/** AWS clients that sign as `principal` and reach the gateway. */
export function roleAws(principal: string, props: Pick<ExecutorProps, 'credentials' | 'endpoint' | 'region'>): RoleAws {
  const credentials = props.credentials.issue(principal);
  const common = { region: props.region, endpoint: props.endpoint, credentials, maxAttempts: 1 };
  const ecr = new ECRClient(common);
  return {
    principal,
    s3: new S3Client({ ...common, forcePathStyle: true }),
    ecr,
    environment: { ...props.credentials.environment(principal), AWS_ENDPOINT_URL: props.endpoint, AWS_REGION: props.region, AWS_DEFAULT_REGION: props.region },
    async registryLogin() {
      const out = await ecr.send(new GetAuthorizationTokenCommand({}));
      const [username, password] = Buffer.from(out.authorizationData?.[0]?.authorizationToken ?? '', 'base64')
        .toString('utf8')
        .split(/:(.*)/s);
      return { username, password };
    },
  };
}

const denied = (error: unknown) => new ActionFailedError(error instanceof Error ? `${error.name}: ${error.message}` : String(error), { cause: error });

async function readAll(body: unknown): Promise<Buffer> {
  const b = body as { transformToByteArray?: () => Promise<Uint8Array> };
  if (!b?.transformToByteArray) throw new ActionFailedError('S3 returned no body');
  return Buffer.from(await b.transformToByteArray());
}

/** The executors of the three action kinds the factory's pipelines use. */
export function actionExecutors(props: ExecutorProps): Record<string, ActionExecutor> {
  const s3Source: ActionExecutor = async (ctx) => {
    const aws = roleAws(ctx.action.roleArn ?? ctx.pipeline.roleArn, props);
    const bucket = String(ctx.action.configuration.S3Bucket);
    const key = String(ctx.action.configuration.S3ObjectKey);
    let head;
    let bytes: Buffer;
    try {
      head = await aws.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      const object = await aws.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: head.VersionId }));
      bytes = await readAll(object.Body);
    } catch (error) {
      // What CodePipeline's S3 source says when there is nothing to start from.
      if ((error as { name?: string }).name === 'NotFound' || (error as { name?: string }).name === 'NoSuchKey') {
        throw new ActionFailedError(`The object with key '${key}' does not exist in s3://${bucket} (NoSuchKey): upload a configuration first (dcf push)`, {
          cause: error,
        });
      }
      throw denied(error);
    }
    const output = ctx.action.outputArtifacts[0];
    const outputs: Record<string, { bucket: string; key: string }> = {};
    if (output) {
      const artifactKey = ctx.outputKey(output);
      try {
        await aws.s3.send(
          new PutObjectCommand({
            Bucket: ctx.pipeline.artifactBucket,
            Key: artifactKey,
            Body: bytes,
            ...(ctx.pipeline.artifactKey && { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: ctx.pipeline.artifactKey }),
          }),
        );
      } catch (error) {
        throw denied(error);
      }
      outputs[output] = { bucket: ctx.pipeline.artifactBucket, key: artifactKey };
    }
    return {
      variables: { VersionId: head.VersionId ?? 'null', ETag: (head.ETag ?? '').replace(/"/g, ''), BucketName: bucket, ObjectKey: key },
      outputs,
      summary: `s3://${bucket}/${key} version ${head.VersionId}`,
    };
  };

  const lambdaInvoke: ActionExecutor = async (ctx) => {
    const name = String(ctx.action.configuration.FunctionName);
    const fn = props.functions.get(name);
    if (!fn) throw new ActionFailedError(`no function ${name} in the assembly`);
    const pipelineRole = ctx.action.roleArn ?? ctx.pipeline.roleArn;
    try {
      await props.authorize(pipelineRole, 'lambda:InvokeFunction', fn.arn);
    } catch (error) {
      throw denied(error);
    }
    const job = ctx.newJob();
    // Where the function writes its output artifacts; later actions get them from there.
    const outputs = Object.fromEntries(ctx.action.outputArtifacts.map((n) => [n, { bucket: ctx.pipeline.artifactBucket, key: ctx.outputKey(n) }] as const));
    // The artifact credentials: a session of the pipeline's role, scoped to this job's artifacts.
    const session = assumedRoleArn(pipelineRole, `codepipeline-job-${job.id.slice(0, 8)}`);
    props.sessions.declareSession(
      session,
      artifactSessionPolicy({ region: props.region, inputs: [...ctx.inputs.values()], outputs: Object.values(outputs), artifactKey: ctx.pipeline.artifactKey }),
    );
    const artifactCredentials = props.credentials.issue(session);
    const location = (name: string, l: { bucket: string; key: string }) => ({
      name,
      revision: null,
      location: { type: 'S3', s3Location: { bucketName: l.bucket, objectKey: l.key } },
    });
    const event = {
      'CodePipeline.job': {
        id: job.id,
        accountId: props.account,
        data: {
          actionConfiguration: {
            configuration: {
              FunctionName: name,
              ...(ctx.action.configuration.UserParameters !== undefined && { UserParameters: ctx.resolve(String(ctx.action.configuration.UserParameters)) }),
            },
          },
          inputArtifacts: [...ctx.inputs].map(([n, l]) => location(n, l)),
          outputArtifacts: Object.entries(outputs).map(([n, l]) => location(n, l)),
          artifactCredentials: { ...artifactCredentials, expirationTime: Date.now() + 3_600_000 },
          ...(ctx.pipeline.artifactKey && { encryptionKey: { id: ctx.pipeline.artifactKey, type: 'KMS' } }),
        },
      },
    };
    const invocation = await invokeFunction(fn, event, {
      credentials: props.credentials,
      endpoint: props.endpoint,
      region: props.region,
      registryHost: props.registryHost,
      account: props.account,
      authorize: props.authorize,
      assume: (service, role) => props.assume(service, role, fn.arn),
    });
    const result = job.result();
    if (!result) {
      throw new ActionFailedError(
        `${name} reported no job result${invocation.ok ? '' : `: ${invocation.error?.name}: ${invocation.error?.message}`}\n${invocation.logs.slice(-2000)}`,
      );
    }
    if (result.status === 'Failed') throw new ActionFailedError(result.message);
    return { variables: result.outputVariables, summary: result.summary, outputs } satisfies ActionOutcome;
  };

  const codeBuild: ActionExecutor = async (ctx: ActionContext) => {
    const name = String(ctx.action.configuration.ProjectName);
    const project = props.projects.get(name);
    if (!project) throw new ActionFailedError(`no CodeBuild project ${name} in the assembly`);
    const pipelineRole = ctx.action.roleArn ?? ctx.pipeline.roleArn;
    try {
      await props.authorize(pipelineRole, 'codebuild:StartBuild', project.arn);
      await props.authorize(pipelineRole, 'codebuild:BatchGetBuilds', project.arn);
      await props.assume('codebuild.amazonaws.com', project.roleArn, project.arn);
      const build = randomUUID();
      if (project.logs)
        await writeLogs(props.authorize, project.roleArn, {
          region: props.region,
          account: props.account,
          group: project.logs.group,
          stream: project.logs.streamPrefix ? `${project.logs.streamPrefix}/${build}` : build,
        });
    } catch (error) {
      throw denied(error);
    }
    const aws = roleAws(project.roleArn, props);
    // CodeBuild's primary source is the artifact the action names PrimarySource, or its only input.
    const names = [...ctx.inputs.keys()];
    const primary = names.length > 1 ? String(ctx.action.configuration.PrimarySource ?? '') : names[0];
    if (names.length > 1 && !ctx.inputs.has(primary))
      throw new ActionFailedError(`${ctx.action.name} has ${names.length} input artifacts and PrimarySource '${primary}' names none of them`);
    let source: Buffer = Buffer.alloc(0);
    const secondarySources = new Map<string, Buffer>();
    for (const [artifact, location] of ctx.inputs) {
      let bytes: Buffer;
      try {
        bytes = await readAll((await aws.s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }))).Body);
      } catch (error) {
        throw denied(error);
      }
      if (artifact === primary) source = bytes;
      else secondarySources.set(artifact, bytes);
    }
    const variables = ctx.action.configuration.EnvironmentVariables
      ? (JSON.parse(String(ctx.action.configuration.EnvironmentVariables)) as { name: string; value: string }[])
      : [];
    const environment = { ...project.environment, ...Object.fromEntries(variables.map((v) => [v.name, ctx.resolve(v.value)])) };
    try {
      return { summary: await props.work(project)({ project, environment, source, secondarySources, aws }) };
    } catch (error) {
      if (error instanceof ActionFailedError) throw error;
      throw denied(error);
    }
  };

  return { 'Source/S3': s3Source, 'Invoke/Lambda': lambdaInvoke, 'Build/CodeBuild': codeBuild, 'Test/CodeBuild': codeBuild };
}
