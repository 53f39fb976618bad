/**
 * A cloud assembly exactly as `cdk synth` wrote it, resolved for one made-up account and
 * region (partition `aws`, URL suffix `amazonaws.com`): every template's parameters
 * (the warehouse's SSM parameters read by the pipeline stacks, CDK's bootstrap version),
 * conditions, rules, intrinsic functions, physical names and ARNs, so that the rest of
 * the rehearsal sees what CloudFormation would have deployed. Also where each function's
 * code and each CodeBuild project's buildspec is.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { RehearsalError } from './errors';
import { readCloudAssembly, type AssetFile, type StackArtifact } from './private/cloud-assembly-files';
import {
  REHEARSAL_BOOTSTRAP_VERSION,
  StackResolver,
  type AssemblyLookups,
  type Environment,
  type ResolvedOutputData,
  type ResolvedResourceData,
} from './private/stack-resolver';

export type { AssetFile } from './private/cloud-assembly-files';
export { REHEARSAL_BOOTSTRAP_VERSION } from './private/stack-resolver';

/** The account and region the assembly is resolved for. */
export interface AssemblyEnvironment {
  readonly account: string;
  readonly region: string;
}

/** One resource as CloudFormation would have deployed it, in its stack. */
export interface ResolvedResource extends ResolvedResourceData {
  readonly stack: string;
}

/** An output of a stack, resolved. */
export type ResolvedOutput = ResolvedOutputData;

export interface ResolvedStack {
  readonly name: string;
  readonly artifactId: string;
  readonly templateFile: string;
  /** Names of the stacks this one deploys after. */
  readonly dependencies: readonly string[];
  readonly parameters: ReadonlyMap<string, string | string[]>;
  readonly resources: ReadonlyMap<string, ResolvedResource>;
  readonly outputs: ReadonlyMap<string, ResolvedOutput>;
}

/** A Lambda function as the Lambda runner needs it. */
export interface LambdaFunctionSpec {
  readonly stack: string;
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly roleArn: string;
  /** The asset folder of its code in the assembly. */
  readonly codeDir: string;
  readonly handler: string;
  readonly runtime: string;
  readonly architectures: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
  readonly memorySize: number;
  /** The log group Lambda writes the function's logs to with its role (`LoggingConfig.LogGroup`, or `/aws/lambda/<name>`). */
  readonly logGroup: string;
}

/** One environment variable of a CodeBuild project. */
export interface BuildEnvironmentVariable {
  readonly name: string;
  readonly value: string;
  /** `PLAINTEXT`, or `PARAMETER_STORE`/`SECRETS_MANAGER`, whose value names where the value is. */
  readonly type: string;
}

/** A CodeBuild project as the pipeline engine needs it. */
export interface BuildProjectSpec {
  readonly stack: string;
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly roleArn: string;
  /** The project's environment variables, by name (values as the template gives them, whatever their type). */
  readonly environment: Readonly<Record<string, string>>;
  readonly environmentVariables: readonly BuildEnvironmentVariable[];
  /** The inline buildspec (`Source.BuildSpec`); undefined when the source brings its own buildspec file. */
  readonly buildSpec?: string;
  /** The inline buildspec parsed, when it is JSON (as CDK's `BuildSpec.fromObject` writes it); undefined for YAML. */
  readonly buildSpecObject?: unknown;
  readonly image: string;
  readonly computeType: string;
  readonly environmentType: string;
  readonly privilegedMode: boolean;
  readonly timeoutMinutes: number;
  readonly encryptionKey?: string;
  /** Where CodeBuild writes the build's logs with the service role; undefined when CloudWatch Logs are off. */
  readonly logs?: { readonly group: string; readonly streamPrefix?: string };
}

const PARTITION = 'aws';
const URL_SUFFIX = 'amazonaws.com';

/** The resolved assembly. */
export class Assembly {
  readonly partition = PARTITION;
  readonly urlSuffix = URL_SUFFIX;
  private readonly byArn = new Map<string, ResolvedResource>();

  constructor(
    /** The assembly folder. */
    readonly dir: string,
    readonly account: string,
    readonly region: string,
    readonly stacks: ReadonlyMap<string, ResolvedStack>,
    /** Every file asset of the assembly, with the bucket and key CDK publishes it to. */
    readonly assets: readonly AssetFile[],
  ) {
    for (const resource of this.resources()) if (resource.arn) this.byArn.set(resource.arn, resource);
  }

  /** The stack named `name`; throws when there is none. */
  stack(name: string): ResolvedStack {
    const stack = this.stacks.get(name);
    if (!stack) throw new RehearsalError(`the assembly has no stack ${name} (it has ${[...this.stacks.keys()].join(', ')})`);
    return stack;
  }

  /** One resource; throws when the stack has no such logical id. */
  resource(stack: string, logicalId: string): ResolvedResource {
    const resource = this.stack(stack).resources.get(logicalId);
    if (!resource) throw new RehearsalError(`the stack has no resource ${logicalId}`, { stackName: stack, logicalId });
    return resource;
  }

  /** Every resource of every stack. */
  resources(): ResolvedResource[] {
    return [...this.stacks.values()].flatMap((s) => [...s.resources.values()]);
  }

  /** Every resource of `type` (e.g. `AWS::IAM::Role`), across the stacks. */
  resourcesOfType(type: string): ResolvedResource[] {
    return this.resources().filter((r) => r.type === type);
  }

  /** The resource whose ARN is `arn`, if the assembly has one. */
  resourceByArn(arn: string): ResolvedResource | undefined {
    return this.byArn.get(arn);
  }

  /** The file asset CDK publishes to `objectKey` (in `bucketName`, when given). */
  asset(objectKey: string, bucketName?: string): AssetFile | undefined {
    return this.assets.find((a) => a.objectKey === objectKey && (bucketName === undefined || a.bucketName === bucketName));
  }

  /**
   * The folder in the assembly that holds a Lambda function's code: from the function's
   * `aws:asset:path` metadata, else from the asset manifest entry of its `Code.S3Key`.
   */
  functionAssetDir(stack: string, logicalId: string): string {
    const fn = this.resourceOfType(stack, logicalId, 'AWS::Lambda::Function');
    const at = { stackName: stack, logicalId };
    const code = (fn.properties.Code ?? {}) as { S3Bucket?: string; S3Key?: string; ZipFile?: string; ImageUri?: string };
    if (code.ZipFile !== undefined) throw new RehearsalError('the function has inline code (Code.ZipFile), not an asset folder', at);
    if (code.ImageUri !== undefined) throw new RehearsalError('the function is a container image (Code.ImageUri), which the rehearsal does not run', at);
    const fromMetadata = fn.metadata['aws:asset:path'];
    const asset = code.S3Key === undefined ? undefined : this.asset(code.S3Key, code.S3Bucket);
    const dir = typeof fromMetadata === 'string' ? resolve(this.dir, fromMetadata) : asset?.path;
    if (!dir) {
      throw new RehearsalError(
        `the function's code (s3://${code.S3Bucket}/${code.S3Key}) is no asset of this assembly: it has no aws:asset:path metadata and no asset manifest publishes that key`,
        at,
      );
    }
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new RehearsalError(`the function's asset folder ${dir} is missing from the assembly`, at);
    return dir;
  }

  /** A Lambda function's name, ARN, role, code folder, handler, runtime, environment and limits. */
  lambdaFunction(stack: string, logicalId: string): LambdaFunctionSpec {
    const fn = this.resourceOfType(stack, logicalId, 'AWS::Lambda::Function');
    const p = fn.properties as {
      Role?: string;
      Handler?: string;
      Runtime?: string;
      Architectures?: string[];
      Environment?: { Variables?: Record<string, unknown> };
      Timeout?: number;
      MemorySize?: number;
      LoggingConfig?: { LogGroup?: string };
    };
    return {
      stack,
      logicalId,
      name: fn.physicalName,
      arn: fn.arn as string,
      roleArn: String(p.Role),
      codeDir: this.functionAssetDir(stack, logicalId),
      handler: String(p.Handler),
      runtime: String(p.Runtime),
      architectures: p.Architectures ?? ['x86_64'],
      environment: Object.fromEntries(Object.entries(p.Environment?.Variables ?? {}).map(([k, v]) => [k, String(v)])),
      timeoutSeconds: Number(p.Timeout ?? 3),
      memorySize: Number(p.MemorySize ?? 128),
      logGroup: p.LoggingConfig?.LogGroup !== undefined ? String(p.LoggingConfig.LogGroup) : `/aws/lambda/${fn.physicalName}`,
    };
  }

  /** A CodeBuild project's name, ARN, service role, buildspec, environment and limits. */
  buildProject(stack: string, logicalId: string): BuildProjectSpec {
    const project = this.resourceOfType(stack, logicalId, 'AWS::CodeBuild::Project');
    const p = project.properties as {
      ServiceRole?: string;
      Source?: { BuildSpec?: string };
      Environment?: {
        Image?: string;
        ComputeType?: string;
        Type?: string;
        PrivilegedMode?: boolean;
        EnvironmentVariables?: { Name: string; Value: unknown; Type?: string }[];
      };
      TimeoutInMinutes?: number;
      EncryptionKey?: string;
      LogsConfig?: { CloudWatchLogs?: { Status?: string; GroupName?: string; StreamName?: string } };
    };
    const role = String(p.ServiceRole);
    const variables = (p.Environment?.EnvironmentVariables ?? []).map((v) => ({ name: v.Name, value: String(v.Value), type: v.Type ?? 'PLAINTEXT' }));
    const buildSpec = p.Source?.BuildSpec;
    const logs = p.LogsConfig?.CloudWatchLogs;
    return {
      stack,
      logicalId,
      name: project.physicalName,
      arn: project.arn as string,
      // CodeBuild takes a role name or ARN.
      roleArn: role.startsWith('arn:') ? role : `arn:${PARTITION}:iam::${this.account}:role/${role}`,
      environment: Object.fromEntries(variables.map((v) => [v.name, v.value])),
      environmentVariables: variables,
      ...(buildSpec !== undefined && { buildSpec, buildSpecObject: parseJson(buildSpec) }),
      image: String(p.Environment?.Image),
      computeType: String(p.Environment?.ComputeType),
      environmentType: String(p.Environment?.Type),
      privilegedMode: p.Environment?.PrivilegedMode === true,
      timeoutMinutes: Number(p.TimeoutInMinutes ?? 60),
      ...(p.EncryptionKey !== undefined && { encryptionKey: p.EncryptionKey }),
      ...(logs?.Status !== 'DISABLED' && {
        logs: {
          group: logs?.GroupName !== undefined ? String(logs.GroupName) : `/aws/codebuild/${project.physicalName}`,
          ...(logs?.StreamName !== undefined && { streamPrefix: String(logs.StreamName) }),
        },
      }),
    };
  }

  private resourceOfType(stack: string, logicalId: string, type: string): ResolvedResource {
    const resource = this.resource(stack, logicalId);
    if (resource.type !== type) throw new RehearsalError(`is a ${resource.type}, not a ${type}`, { stackName: stack, logicalId });
    return resource;
  }
}

/**
 * Reads the cloud assembly in `dir` (`manifest.json`, every `aws:cloudformation:stack`
 * template, the asset manifests) and resolves it for `env`.
 * @throws RehearsalError for anything the rehearsal cannot resolve, naming stack, logical id and path
 */
export function loadAssembly(dir: string, env: AssemblyEnvironment): Assembly {
  const environment: Environment = { account: env.account, region: env.region, partition: PARTITION, urlSuffix: URL_SUFFIX };
  const { stacks: artifacts, assets } = readCloudAssembly(dir, environment);
  const byName = new Map<string, StackArtifact>();
  for (const artifact of artifacts) {
    checkEnvironment(artifact, env);
    if (byName.has(artifact.stackName)) throw new RehearsalError(`two stack artifacts are named ${artifact.stackName}`);
    byName.set(artifact.stackName, artifact);
  }

  const resolvers = new Map<string, StackResolver>();
  const lookups = new SsmLookups(resolvers, byName);
  for (const artifact of artifacts) resolvers.set(artifact.stackName, new StackResolver(artifact.stackName, artifact.template, environment, lookups));

  const artifactNames = new Map(artifacts.map((a) => [a.artifactId, a.stackName]));
  const stacks = new Map<string, ResolvedStack>();
  for (const artifact of artifacts) {
    const resolver = resolvers.get(artifact.stackName) as StackResolver;
    resolver.checkRules();
    const parameters = resolver.parameters();
    const resources = new Map(resolver.logicalIds().map((id) => [id, { stack: artifact.stackName, ...resolver.resource(id) }]));
    stacks.set(artifact.stackName, {
      name: artifact.stackName,
      artifactId: artifact.artifactId,
      templateFile: artifact.templateFile,
      dependencies: artifact.dependencies.map((d) => artifactNames.get(d) ?? d),
      parameters,
      resources,
      outputs: resolver.outputs(),
    });
  }
  return new Assembly(dir, env.account, env.region, stacks, assets);
}

function checkEnvironment(artifact: StackArtifact, env: AssemblyEnvironment): void {
  const [, account, region] = /^aws:\/\/([^/]+)\/(.+)$/.exec(artifact.environment ?? '') ?? [];
  const at = { stackName: artifact.stackName };
  if (account && account !== 'unknown-account' && account !== env.account) {
    throw new RehearsalError(
      `the stack was synthesized for account ${account}, not ${env.account}: its templates name that account literally (synthesize with CDK_DEFAULT_ACCOUNT=${env.account})`,
      at,
    );
  }
  if (region && region !== 'unknown-region' && region !== env.region) {
    throw new RehearsalError(
      `the stack was synthesized for region ${region}, not ${env.region}: its templates name that region literally (synthesize with AWS_REGION=${env.region} CDK_DEFAULT_REGION=${env.region})`,
      at,
    );
  }
  if ((artifact.requiresBootstrapStackVersion ?? 0) > Number(REHEARSAL_BOOTSTRAP_VERSION)) {
    throw new RehearsalError(
      `the stack requires CDK bootstrap version ${artifact.requiresBootstrapStackVersion}; the rehearsal models version ${REHEARSAL_BOOTSTRAP_VERSION}`,
      at,
    );
  }
}

/**
 * The SSM parameters the stacks write (`AWS::SSM::Parameter`), for the stacks that read
 * them through `AWS::SSM::Parameter::Value<…>` parameters, as CloudFormation resolves
 * them when it deploys the reader: after the writer, which the reader must depend on.
 */
class SsmLookups implements AssemblyLookups {
  private index?: Map<string, { stack: string; logicalId: string }[]>;
  private indexing = false;

  constructor(
    private readonly resolvers: ReadonlyMap<string, StackResolver>,
    private readonly artifacts: ReadonlyMap<string, StackArtifact>,
  ) {}

  ssmParameter(name: string, reader: string, path: string): string {
    const at = { stackName: reader, path };
    const writers = this.writers().get(name) ?? [];
    const others = writers.filter((w) => w.stack !== reader);
    if (others.length === 0) {
      if (writers.length > 0)
        throw new RehearsalError(
          `reads the SSM parameter ${name}, which the same stack writes: CloudFormation reads parameters before it creates resources`,
          at,
        );
      const written = [...this.writers().keys()];
      throw new RehearsalError(
        `reads the SSM parameter ${name}, which no stack of the assembly writes (they write ${written.length > 0 ? written.join(', ') : 'no SSM parameters'})`,
        at,
      );
    }
    if (others.length > 1)
      throw new RehearsalError(`reads the SSM parameter ${name}, which several stacks write: ${others.map((w) => `${w.stack}/${w.logicalId}`).join(', ')}`, at);
    const [writer] = others;
    if (!this.deploysAfter(reader, writer.stack)) {
      throw new RehearsalError(
        `reads the SSM parameter ${name}, which ${writer.stack} writes, but does not deploy after ${writer.stack} (add a stack dependency)`,
        at,
      );
    }
    const value = (this.resolvers.get(writer.stack) as StackResolver).property(writer.logicalId, 'Value');
    if (typeof value !== 'string')
      throw new RehearsalError(`the SSM parameter ${name} has no string Value`, {
        stackName: writer.stack,
        logicalId: writer.logicalId,
        path: 'Properties.Value',
      });
    return value;
  }

  private writers(): Map<string, { stack: string; logicalId: string }[]> {
    if (this.index) return this.index;
    if (this.indexing) throw new RehearsalError('the name of an AWS::SSM::Parameter depends on another SSM parameter, which the rehearsal does not model');
    this.indexing = true;
    try {
      const index = new Map<string, { stack: string; logicalId: string }[]>();
      for (const [stack, resolver] of this.resolvers) {
        for (const logicalId of resolver.logicalIdsOfType('AWS::SSM::Parameter')) {
          const name = resolver.physicalName(logicalId);
          index.set(name, [...(index.get(name) ?? []), { stack, logicalId }]);
        }
      }
      this.index = index;
      return index;
    } finally {
      this.indexing = false;
    }
  }

  /** Whether `reader` depends on `writer`, directly or through other stacks. */
  private deploysAfter(reader: string, writer: string): boolean {
    const byId = new Map([...this.artifacts.values()].map((a) => [a.artifactId, a]));
    const seen = new Set<string>();
    const queue = [...(this.artifacts.get(reader)?.dependencies ?? [])];
    while (queue.length > 0) {
      const next = byId.get(queue.shift() as string);
      if (!next || seen.has(next.stackName)) continue;
      if (next.stackName === writer) return true;
      seen.add(next.stackName);
      queue.push(...next.dependencies);
    }
    return false;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
