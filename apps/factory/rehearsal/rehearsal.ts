/**
 * A deploy rehearsal: the cloud assembly exactly as `cdk synth` wrote it, run on this
 * machine. moto holds S3, DynamoDB and SSM as the templates declare them; a local CNCF
 * registry holds the image data, behind the ECR front; every call of every principal
 * goes through the gateway and meets the synthesized policies (IAM evaluated by
 * iam-simulate). Uploads go through the real `dcf push`; the source bucket's events, the
 * rules' own patterns and the schedules' targets start the pipelines, which run their
 * Lambda bundles from the assembly and stand in for CodeBuild's builds.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutBucketEncryptionCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { OciRegistry, startLocalRegistryServer, type LocalRegistryServer } from '@devcontainer-factory/core';
import { actionExecutors } from './action-executors';
import type { Assembly } from './assembly';
import { blobMountingOf, bucketsOf, creationTemplatesOf, functionsOf, parametersOf, pipelinesOf, projectsOf, rulesOf, scanOnPushFiltersOf, tablesOf, type RehearsalRule } from './assembly-parts';
import { AwsGateway } from './aws-gateway';
import { EcrFront, type EcrEvent } from './ecr-front';
import type { IamModel } from './iam';
import { CredentialBook } from './credentials';
import { workOf } from './codebuild-work';
import { RehearsalError } from './errors';
import { matchesEventPattern } from './event-pattern';
import { invokeFunction, type InvocationResult } from './lambda-runner';
import { startMotoServer, type MotoServer } from './moto-server';
import { PipelineEngine, type PipelineDefinition, type PipelineExecution } from './pipeline-engine';

export interface RehearsalProps {
  readonly assembly: Assembly;
  readonly iam: IamModel;
  /** The `dcf` CLI entry point (`packages/cli/dist/bin/dcf.js`). */
  readonly dcf: string;
  /** The clock of the stand-in builds. */
  readonly now?: () => Date;
  /** Repositories the account has before the factory is deployed (e.g. what a pull-through cache would create on first pull). */
  readonly repositories?: readonly string[];
  /** What a scan of an image in a repository reports (default: a COMPLETE scan with no findings). */
  readonly findings?: (repository: string, digest: string) => unknown | undefined;
}

/** What a trigger started. */
export interface TriggerRun {
  readonly rule: string;
  readonly pipeline: string;
  readonly execution: PipelineExecution;
}

/** An identity the rehearsal gives the person running `dcf` (a role of your choosing). */
export const DEVELOPER_ROLE = (account: string) => `arn:aws:iam::${account}:role/rehearsal-developer`;

export class Rehearsal {
  readonly credentials = new CredentialBook();
  readonly engine: PipelineEngine;
  readonly gateway: AwsGateway;
  readonly pipelines: ReadonlyMap<string, PipelineDefinition>;
  readonly rules: readonly RehearsalRule[];
  /** Runs started by triggers, in order. */
  readonly runs: TriggerRun[] = [];
  /** Triggers that could not start their pipeline (the role's trust or permission), with why. */
  readonly refused: { rule: string; pipeline: string; why: string }[] = [];
  /** Every call checked, in order: through the gateway, the ECR front, and outside them (Lambda's and CodeBuild's own APIs, trust). */
  private readonly log: { principal: string; action: string; resource: string; allowed: boolean; why: string }[] = [];
  private queue: Promise<void> = Promise.resolve();
  private readonly authorizer: { authorize(request: { principal: string; action: string; resource: string; context?: Record<string, string | string[]> }): Promise<{ allowed: boolean; why: string }> };
  private readonly registryHost: string;

  readonly ecr: EcrFront;
  private readonly resources: ReturnType<Assembly['resources']>;
  private readonly account: string;
  private readonly region: string;

  private constructor(
    readonly props: RehearsalProps,
    readonly registry: LocalRegistryServer,
    readonly moto: MotoServer,
  ) {
    const { assembly } = props;
    this.account = assembly.account;
    this.region = assembly.region;
    this.resources = assembly.resources();
    this.registryHost = `${this.account}.dkr.ecr.${this.region}.amazonaws.com`;
    // One place every decision passes through, so the report counts each call once, in order.
    const authorizer = {
      authorize: async (request: { principal: string; action: string; resource: string; context?: Record<string, string | string[]> }) => {
        const decision = await props.iam.authorize(request);
        this.log.push({ principal: request.principal, action: request.action, resource: request.resource, ...decision });
        return decision;
      },
    };
    this.authorizer = authorizer;
    const filters = scanOnPushFiltersOf(this.resources).map((f) => new RegExp(`^${f.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`));
    this.ecr = new EcrFront({
      upstream: registry.host,
      account: this.account,
      region: this.region,
      authorizer: { authorize: (principal, action, resource) => authorizer.authorize({ principal, action, resource }) },
      scanOnPush: (repository) => filters.some((f) => f.test(repository)),
      creationTemplatePrefixes: creationTemplatesOf(this.resources).map((t) => t.prefix),
      blobMounting: blobMountingOf(this.resources),
      repositories: props.repositories ?? [],
      ...(props.findings && { findings: props.findings }),
      onEvent: (event: EcrEvent) => this.emit(event as unknown as Record<string, unknown>),
    });
    this.pipelines = new Map(pipelinesOf(this.resources).map((p) => [p.name, p]));
    this.rules = rulesOf(this.resources);
    const functions = functionsOf(assembly);
    const projects = projectsOf(assembly);
    const tables = new Map(tablesOf(this.resources).map((t) => [t.name, t.partitionKey]));
    let endpoint = '';
    const executors = actionExecutors({
      account: this.account,
      region: this.region,
      credentials: this.credentials,
      get endpoint() {
        return endpoint;
      },
      registryHost: this.registryHost,
      authorize: (principal, action, resource) => this.check(principal, action, resource),
      assume: (service, roleArn, sourceArn) => this.assume(service, roleArn, sourceArn),
      functions,
      projects,
      work: (project) => workOf(project, new URL(endpoint).host, props.now ?? (() => new Date())),
    });
    this.engine = new PipelineEngine(executors, this.pipelines.values());
    this.gateway = new AwsGateway({
      account: this.account,
      region: this.region,
      credentials: this.credentials,
      authorizer,
      moto: moto.endpoint,
      ecr: this.ecr,
      codepipeline: { handle: (operation, body) => this.engine.handle(operation, body) },
      partitionKeyOf: (table) => tables.get(table),
      onObjectCreated: (object) => this.objectCreated(object),
    });
    this.start = async () => {
      endpoint = await this.gateway.start();
      this.ecr.setPublicBaseUrl(endpoint);
    };
  }

  private readonly start: () => Promise<void>;

  /** Starts the registry, moto and the gateway, and creates what the templates declare in them. */
  static async start(props: RehearsalProps): Promise<Rehearsal> {
    const registry = await startLocalRegistryServer();
    let moto: MotoServer | undefined;
    try {
      moto = await startMotoServer();
      const rehearsal = new Rehearsal(props, registry, moto);
      await rehearsal.start();
      await rehearsal.createState();
      return rehearsal;
    } catch (error) {
      await moto?.stop();
      await registry.stop();
      throw error;
    }
  }

  /** Stops every server the rehearsal started; safe to call twice. */
  async stop(): Promise<void> {
    await this.queue.catch(() => undefined);
    await this.gateway.stop();
    this.ecr.close();
    await this.moto.stop();
    await this.registry.stop();
  }

  /** Buckets (versioned, encrypted as declared), parameters and tables, as CloudFormation would have created them. */
  private async createState(): Promise<void> {
    const admin = { region: this.region, endpoint: this.moto.endpoint, credentials: { accessKeyId: 'rehearsal-admin', secretAccessKey: 'rehearsal-admin' } };
    const s3 = new S3Client({ ...admin, forcePathStyle: true });
    for (const bucket of bucketsOf(this.resources)) {
      await s3.send(new CreateBucketCommand({ Bucket: bucket.name, CreateBucketConfiguration: { LocationConstraint: this.region as never } }));
      if (bucket.versioned) await s3.send(new PutBucketVersioningCommand({ Bucket: bucket.name, VersioningConfiguration: { Status: 'Enabled' } }));
      if (bucket.kmsKey) {
        await s3.send(
          new PutBucketEncryptionCommand({ Bucket: bucket.name, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: bucket.kmsKey } }] } }),
        );
      }
    }
    const ssm = new SSMClient(admin);
    for (const p of parametersOf(this.resources)) await ssm.send(new PutParameterCommand({ Name: p.name, Value: p.value, Type: 'String', Overwrite: true }));
    const dynamo = new DynamoDBClient(admin);
    for (const t of tablesOf(this.resources)) {
      await dynamo.send(
        new CreateTableCommand({ TableName: t.name, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: t.partitionKey, AttributeType: 'S' }], KeySchema: [{ AttributeName: t.partitionKey, KeyType: 'HASH' }] }),
      );
    }
    for (const c of [s3, ssm, dynamo]) c.destroy();
  }

  /** A call that does not go through the gateway, checked and recorded as the gateway does. */
  async check(principal: string, action: string, resource: string, context?: Record<string, string | string[]>): Promise<void> {
    const decision = await this.authorizer.authorize({ principal, action, resource, ...(context && { context }) });
    if (!decision.allowed) throw new RehearsalError(`AccessDenied: User: ${principal} is not authorized to perform: ${action} on resource: ${resource} because ${decision.why}`);
  }

  /** Whether `service` may assume `roleArn` on behalf of `sourceArn` (the function, project, pipeline, rule or schedule), as the service asks STS. */
  async assume(service: string, roleArn: string, sourceArn?: string): Promise<void> {
    const decision = await this.props.iam.assume(service, roleArn, { 'aws:SourceAccount': this.account, ...(sourceArn && { 'aws:SourceArn': sourceArn }) });
    this.log.push({ principal: service, action: 'sts:AssumeRole', resource: roleArn, allowed: decision.allowed, why: decision.why });
    if (!decision.allowed) throw new RehearsalError(`AccessDenied: ${service} may not assume ${roleArn}: ${decision.why}`);
  }

  /** The source bucket's "Object Created" event, as S3 sends it to EventBridge; the rules decide what starts. */
  private objectCreated(object: { bucket: string; key: string; versionId?: string; etag?: string; size: number }): void {
    const bucket = bucketsOf(this.resources).find((b) => b.name === object.bucket);
    if (!bucket?.eventBridge) return;
    this.emit({
      version: '0',
      id: randomUUID(),
      'detail-type': 'Object Created',
      source: 'aws.s3',
      account: this.account,
      time: new Date().toISOString(),
      region: this.region,
      resources: [`arn:aws:s3:::${object.bucket}`],
      detail: {
        version: '0',
        bucket: { name: object.bucket },
        object: { key: object.key, size: object.size, ...(object.etag && { etag: object.etag.replace(/"/g, '') }), ...(object.versionId && { 'version-id': object.versionId }), sequencer: Date.now().toString(16) },
        'request-id': randomUUID(),
        requester: this.account,
        reason: 'PutObject',
      },
    });
  }

  /** Puts an event on the default bus: every rule whose pattern matches starts its targets, one run after another. */
  emit(event: Record<string, unknown>): void {
    for (const rule of this.rules) {
      if (!rule.pattern || !matchesEventPattern(rule.pattern, event)) continue;
      for (const target of rule.targets) this.enqueue(rule, target);
    }
  }

  /** Fires a rule's or schedule's targets, as its schedule would (e.g. the weekly refresh). */
  fire(ruleName: string): void {
    const rule = this.rules.find((r) => r.name === ruleName);
    if (!rule) throw new RehearsalError(`no rule or schedule named ${ruleName}; there are ${this.rules.map((r) => r.name).join(', ')}`);
    for (const target of rule.targets) this.enqueue(rule, target);
  }

  /** Starts a target pipeline after the runs before it, as its rule's service would, with the target's role. */
  private enqueue(rule: RehearsalRule, target: { arn: string; roleArn?: string }): void {
    const pipeline = [...this.pipelines.values()].find((p) => p.arn === target.arn);
    if (!pipeline) return;
    this.queue = this.queue.then(async () => {
      try {
        if (!target.roleArn) throw new RehearsalError(`rule ${rule.name} starts ${pipeline.name} without a role`);
        await this.assume(rule.service, target.roleArn, rule.arn);
        await this.check(target.roleArn, 'codepipeline:StartPipelineExecution', pipeline.arn);
      } catch (error) {
        this.refused.push({ rule: rule.name, pipeline: pipeline.name, why: error instanceof Error ? error.message : String(error) });
        return;
      }
      const execution = await this.engine.run(pipeline, rule.name);
      this.runs.push({ rule: rule.name, pipeline: pipeline.name, execution });
    });
  }

  /**
   * What CloudFormation's creation of each pipeline starts: CodePipeline runs a new
   * pipeline once, on whatever its source holds (nothing, on a first deploy).
   */
  async created(): Promise<PipelineExecution[]> {
    const runs: PipelineExecution[] = [];
    for (const pipeline of this.pipelines.values()) {
      const execution = await this.engine.run(pipeline, 'CreatePipeline');
      this.runs.push({ rule: 'CreatePipeline', pipeline: pipeline.name, execution });
      runs.push(execution);
    }
    return runs;
  }

  /** Waits until every run the triggers started so far has ended. */
  async settle(): Promise<void> {
    for (;;) {
      const current = this.queue;
      await current;
      if (current === this.queue) return;
    }
  }

  /** Runs the real `dcf` with `args`, signed as `principal`; returns its exit code and output. */
  dcf(args: readonly string[], principal = DEVELOPER_ROLE(this.account)): Promise<{ code: number; stdout: string; stderr: string }> {
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      AWS_REGION: this.region,
      AWS_ENDPOINT_URL: this.gateway.endpoint,
      AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1',
      NO_COLOR: '1',
      ...this.credentials.environment(principal),
    };
    return new Promise((resolve) => {
      execFile(process.execPath, ['--no-warnings', this.props.dcf, ...args], { env, timeout: 120_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
      );
    });
  }

  /** The retention function of a release repository (the one whose environment names it). */
  retentionFunctionOf(releaseRepository: string): string {
    const fn = [...functionsOf(this.props.assembly).values()].find((f) => f.environment.RELEASE_REPOSITORY === releaseRepository && f.environment.STAGING_REPOSITORY !== undefined);
    if (!fn) throw new RehearsalError(`no retention function of ${releaseRepository} in the assembly`);
    return fn.name;
  }

  /** Invokes a function of the assembly with `event` (e.g. retention, from its schedule). */
  async invoke(functionName: string, event: unknown): Promise<InvocationResult> {
    const fn = functionsOf(this.props.assembly).get(functionName);
    if (!fn) throw new RehearsalError(`no function ${functionName} in the assembly`);
    return invokeFunction(fn, event, { credentials: this.credentials, endpoint: this.gateway.endpoint, region: this.region, registryHost: this.registryHost, assume: (s, r) => this.assume(s, r, fn.arn) });
  }

  /**
   * Puts a small image under `repository:tag` in the registry, as state the account
   * already has (the rehearsal does not model the pull-through cache: what its first
   * pull would bring is seeded).
   */
  async seedImage(repository: string, tag: string): Promise<string> {
    const pushed = await this.registryClient().pushImage(repository, tag, {
      config: { architecture: 'amd64', os: 'linux', created: '2026-01-01T00:00:00Z', rootfs: { type: 'layers', diff_ids: [] } },
      layers: [],
    });
    return pushed.digest;
  }

  /** A client of the local registry that holds the image data (no IAM: what a test reads to check the outcome). */
  registryClient(): OciRegistry {
    return new OciRegistry({ host: this.registry.host });
  }

  /** Every call checked, through the gateway and outside it. */
  calls(): readonly { principal: string; action: string; resource: string; allowed: boolean; why: string }[] {
    return this.log;
  }
}

/** Where the CLI's entry point is in this workspace. */
export const DCF_ENTRY = join(__dirname, '..', '..', '..', 'packages', 'cli', 'dist', 'bin', 'dcf.js');
