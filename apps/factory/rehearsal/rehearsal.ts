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
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutBucketEncryptionCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { OciRegistry, startLocalRegistryServer, startMotoServer, type LocalRegistryServer, type MotoServer } from '@devcontainer-factory/core';
import { actionExecutors } from './action-executors';
import type { Assembly } from './assembly';
import {
  blobMountingOf,
  bucketsOf,
  creationTemplatesOf,
  functionsOf,
  parametersOf,
  pipelinesOf,
  projectsOf,
  rulesOf,
  scanOnPushFiltersOf,
  tablesOf,
  topicsOf,
  type RehearsalRule,
  type RehearsalTopic,
  type TriggerTarget,
} from './assembly-parts';
import { AwsGateway } from './aws-gateway';
import { EcrFront, type EcrEvent } from './ecr-front';
import type { IamModel } from './iam';
import { CredentialBook } from './credentials';
import { workOf } from './codebuild-work';
import { RehearsalError } from './errors';
import { matchesEventPattern } from './event-pattern';
import { transformInput } from './input-transformer';
import { invokeFunction, type InvocationResult } from './lambda-runner';
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
  /** What the Test of a staging repository's builds reports while a scenario makes it fail (see {@link failTests}). */
  private readonly testFailures = new Map<string, string>();
  /** The assembly's SNS topics, by ARN. */
  readonly topics: ReadonlyMap<string, RehearsalTopic>;
  /** Messages EventBridge rules published to the topics, in order, as the topics' subscribers receive them. */
  readonly notifications: { rule: string; topic: string; message: string; subscribers: readonly string[] }[] = [];
  /** Starts a later start of the same `SUPERSEDED` pipeline replaced before they ran. */
  readonly superseded: { rule: string; pipeline: string }[] = [];
  private readonly waiting = new Set<string>();
  private queue: Promise<void> = Promise.resolve();
  private readonly authorizer: {
    authorize(request: {
      principal: string;
      action: string;
      resource: string;
      context?: Record<string, string | string[]>;
    }): Promise<{ allowed: boolean; why: string }>;
  };
  private readonly registryHost: string;

  readonly ecr: EcrFront;
  private readonly resources: ReturnType<Assembly['resources']>;
  private readonly creationTemplates: ReturnType<typeof creationTemplatesOf>;
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
    this.creationTemplates = creationTemplatesOf(this.resources);
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
    const filters = scanOnPushFiltersOf(this.resources).map(
      (f) =>
        new RegExp(
          `^${f
            .split('*')
            .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
            .join('.*')}$`,
        ),
    );
    this.ecr = new EcrFront({
      upstream: registry.host,
      account: this.account,
      region: this.region,
      authorizer: { authorize: (principal, action, resource) => authorizer.authorize({ principal, action, resource }) },
      scanOnPush: (repository) => filters.some((f) => f.test(repository)),
      creationTemplatePrefixes: this.creationTemplates.map((t) => t.prefix),
      onCreateFromTemplate: (repository, prefix) => this.createFromTemplate(repository, prefix),
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
      work: (project) =>
        workOf(project, new URL(endpoint).host, this.registryHost, props.now ?? (() => new Date()), (repository) => this.testFailures.get(repository)),
      sessions: props.iam,
    });
    this.engine = new PipelineEngine(executors, this.pipelines.values(), (event) => this.emit(event));
    this.topics = new Map(topicsOf(this.resources).map((t) => [t.arn, t]));
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
      moto = await startMotoServer("the rehearsal's control planes");
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
          new PutBucketEncryptionCommand({
            Bucket: bucket.name,
            ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: bucket.kmsKey } }] },
          }),
        );
      }
    }
    // What `cdk deploy` publishes before it creates the stacks: the file assets (the feature
    // tool the buildspecs fetch) in the bootstrap bucket. Its default encryption, the
    // AWS-managed key, asks a reader for no KMS permission of its own, as SSE-S3 does.
    // Folder assets (the functions' code) run from the assembly and are not published.
    const assetBuckets = new Set<string>();
    for (const asset of this.props.assembly.assets.filter((a) => a.packaging === 'file')) {
      if (!assetBuckets.has(asset.bucketName)) {
        await s3.send(new CreateBucketCommand({ Bucket: asset.bucketName, CreateBucketConfiguration: { LocationConstraint: this.region as never } }));
        assetBuckets.add(asset.bucketName);
      }
      await s3.send(new PutObjectCommand({ Bucket: asset.bucketName, Key: asset.objectKey, Body: readFileSync(asset.path) }));
    }
    const ssm = new SSMClient(admin);
    for (const p of parametersOf(this.resources)) await ssm.send(new PutParameterCommand({ Name: p.name, Value: p.value, Type: 'String', Overwrite: true }));
    const dynamo = new DynamoDBClient(admin);
    for (const t of tablesOf(this.resources)) {
      await dynamo.send(
        new CreateTableCommand({
          TableName: t.name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: t.partitionKey, AttributeType: 'S' }],
          KeySchema: [{ AttributeName: t.partitionKey, KeyType: 'HASH' }],
        }),
      );
    }
    for (const c of [s3, ssm, dynamo]) c.destroy();
  }

  /** A call that does not go through the gateway, checked and recorded as the gateway does. */
  async check(principal: string, action: string, resource: string, context?: Record<string, string | string[]>): Promise<void> {
    const decision = await this.authorizer.authorize({ principal, action, resource, ...(context && { context }) });
    if (!decision.allowed)
      throw new RehearsalError(`AccessDenied: User: ${principal} is not authorized to perform: ${action} on resource: ${resource} because ${decision.why}`);
  }

  /**
   * What ECR does with a creation template's role when a push creates a repository from
   * it: assumes the role, creates the repository (tagged with the template's tags) and,
   * for a KMS-encrypted one, describes the key and grants ECR its use.
   */
  private async createFromTemplate(repository: string, prefix: string): Promise<void> {
    const template = this.creationTemplates.find((t) => t.prefix.replace(/\/+$/, '') === prefix);
    if (!template?.roleArn) return;
    const arn = `arn:aws:ecr:${this.region}:${this.account}:repository/${repository}`;
    await this.assume('ecr.amazonaws.com', template.roleArn);
    await this.check(template.roleArn, 'ecr:CreateRepository', arn);
    if (template.tagged) await this.check(template.roleArn, 'ecr:TagResource', arn);
    if (template.kmsKey) {
      const via = { 'kms:ViaService': `ecr.${this.region}.amazonaws.com`, 'kms:CallerAccount': this.account };
      await this.check(template.roleArn, 'kms:DescribeKey', template.kmsKey, via);
      await this.check(template.roleArn, 'kms:CreateGrant', template.kmsKey, { ...via, 'kms:GrantIsForAWSResource': 'true' });
    }
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
        object: {
          key: object.key,
          size: object.size,
          ...(object.etag && { etag: object.etag.replace(/"/g, '') }),
          ...(object.versionId && { 'version-id': object.versionId }),
          sequencer: Date.now().toString(16),
        },
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
      for (const target of rule.targets) {
        if (this.topics.has(target.arn)) this.publish(rule, target, event);
        else this.enqueue(rule, target);
      }
    }
  }

  /**
   * What EventBridge does for a rule whose target is an SNS topic: publishes the event
   * (or its transformed input) as `events.amazonaws.com`, which the topic's policy must
   * allow, and for an encrypted topic the key's policy must let it use the key. A denied
   * delivery is recorded (the rehearsal fails on it) and the message is lost, as EventBridge loses it.
   */
  private publish(rule: RehearsalRule, target: TriggerTarget, event: Record<string, unknown>): void {
    const topic = this.topics.get(target.arn)!;
    const message = target.inputTransformer ? transformInput(event, target.inputTransformer) : (target.input ?? JSON.stringify(event));
    this.queue = this.queue.then(async () => {
      const context = { 'aws:SourceArn': rule.arn, 'aws:SourceAccount': this.account };
      try {
        await this.check('events.amazonaws.com', 'sns:Publish', topic.arn, context);
        if (topic.kmsKey) {
          await this.check('events.amazonaws.com', 'kms:GenerateDataKey', topic.kmsKey, { ...context, 'kms:ViaService': `sns.${this.region}.amazonaws.com` });
          await this.check('events.amazonaws.com', 'kms:Decrypt', topic.kmsKey, { ...context, 'kms:ViaService': `sns.${this.region}.amazonaws.com` });
        }
      } catch (error) {
        this.refused.push({ rule: rule.name, pipeline: topic.name, why: error instanceof Error ? error.message : String(error) });
        return;
      }
      this.notifications.push({ rule: rule.name, topic: topic.arn, message, subscribers: topic.subscriptions.map((s) => `${s.protocol}:${s.endpoint}`) });
    });
  }

  /** Fires a rule's or schedule's targets, as its schedule would (e.g. the weekly refresh). */
  fire(ruleName: string): void {
    const rule = this.rules.find((r) => r.name === ruleName);
    if (!rule) throw new RehearsalError(`no rule or schedule named ${ruleName}; there are ${this.rules.map((r) => r.name).join(', ')}`);
    for (const target of rule.targets) this.enqueue(rule, target);
  }

  /**
   * Starts a target pipeline after the runs before it, as its rule's service would, with
   * the target's role. A pipeline in `SUPERSEDED` mode keeps at most one start waiting:
   * a later start replaces it, as CodePipeline lets the newer execution through (several
   * tags pushed at once start one run, not one per tag).
   */
  private enqueue(rule: RehearsalRule, target: { arn: string; roleArn?: string }): void {
    const pipeline = [...this.pipelines.values()].find((p) => p.arn === target.arn);
    if (!pipeline) return;
    if (pipeline.executionMode === 'SUPERSEDED') {
      if (this.waiting.has(pipeline.name)) {
        this.superseded.push({ rule: rule.name, pipeline: pipeline.name });
        return;
      }
      this.waiting.add(pipeline.name);
    }
    this.queue = this.queue.then(async () => {
      this.waiting.delete(pipeline.name);
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

  /**
   * Makes every Test of the builds in `stagingRepository` fail with `message`, as the
   * configuration's own test would (the rehearsal cannot run it: no container runtime
   * for the image); `undefined` lets them pass again.
   */
  failTests(stagingRepository: string, message: string | undefined): void {
    if (message === undefined) this.testFailures.delete(stagingRepository);
    else this.testFailures.set(stagingRepository, message);
  }

  /** The retention function of a release repository (the one whose environment names it). */
  retentionFunctionOf(releaseRepository: string): string {
    const fn = [...functionsOf(this.props.assembly).values()].find(
      (f) => f.environment.RELEASE_REPOSITORY === releaseRepository && f.environment.STAGING_REPOSITORY !== undefined,
    );
    if (!fn) throw new RehearsalError(`no retention function of ${releaseRepository} in the assembly`);
    return fn.name;
  }

  /** Invokes a function of the assembly with `event` (e.g. retention, from its schedule). */
  async invoke(functionName: string, event: unknown): Promise<InvocationResult> {
    const fn = functionsOf(this.props.assembly).get(functionName);
    if (!fn) throw new RehearsalError(`no function ${functionName} in the assembly`);
    return invokeFunction(fn, event, {
      credentials: this.credentials,
      endpoint: this.gateway.endpoint,
      region: this.region,
      registryHost: this.registryHost,
      account: this.account,
      authorize: (principal, action, resource) => this.check(principal, action, resource),
      assume: (s, r) => this.assume(s, r, fn.arn),
    });
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
