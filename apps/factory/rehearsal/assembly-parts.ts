/**
 * The parts of a resolved assembly that the rehearsal runs: pipelines, functions, build
 * projects, rules and schedules, and the state the control planes start with (buckets,
 * parameters, tables, the registry's creation templates and scanning filters). Each is
 * read from the resolved template properties as CloudFormation would create it.
 */
import {
  CONTINUOUS_SCAN,
  REGISTRY_SETTINGS_RESOURCE_TYPES,
  SCAN_ON_PUSH,
  planScanOnPush,
  scanOnPushClaimOf,
  type RegistryScanningConfiguration,
} from '@devcontainer-factory/core';
import type { RehearsalProject } from './action-executors';
import type { Assembly, ResolvedResource } from './assembly';
import type { RehearsalFunction } from './lambda-runner';
import type { ActionDefinition, PipelineDefinition, StageDefinition } from './pipeline-engine';

export type { ResolvedResource } from './assembly';

// Resolved CloudFormation properties, read by their documented shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const props = (r: ResolvedResource): any => r.properties;

/** A rule or schedule target that starts a pipeline or invokes a function. */
export interface TriggerTarget {
  readonly arn: string;
  readonly roleArn?: string;
  readonly input?: string;
  /** What EventBridge sends instead of the event: the template, with each `<name>` the value at its path. */
  readonly inputTransformer?: { readonly paths: Readonly<Record<string, string>>; readonly template: string };
}

/** An SNS topic of the assembly: its ARN and the KMS key it encrypts messages with. */
export interface RehearsalTopic {
  readonly arn: string;
  readonly name: string;
  readonly kmsKey?: string;
  /** Its subscriptions' protocol and endpoint. */
  readonly subscriptions: readonly { readonly protocol: string; readonly endpoint: string }[];
}

export function topicsOf(resources: Iterable<ResolvedResource>): RehearsalTopic[] {
  const all = [...resources];
  return ofType(all, 'AWS::SNS::Topic').map((r) => ({
    arn: r.arn!,
    name: r.physicalName,
    ...(props(r).KmsMasterKeyId !== undefined && { kmsKey: String(props(r).KmsMasterKeyId) }),
    subscriptions: [
      ...((props(r).Subscription as { Protocol: string; Endpoint: string }[] | undefined) ?? []).map((s) => ({
        protocol: s.Protocol,
        endpoint: String(s.Endpoint),
      })),
      ...ofType(all, 'AWS::SNS::Subscription')
        .filter((s) => String(props(s).TopicArn) === r.arn)
        .map((s) => ({ protocol: String(props(s).Protocol), endpoint: String(props(s).Endpoint) })),
    ],
  }));
}

export interface RehearsalRule {
  readonly name: string;
  readonly arn: string;
  readonly stack: string;
  /** The service that starts the targets, with their role: EventBridge or EventBridge Scheduler. */
  readonly service: 'events.amazonaws.com' | 'scheduler.amazonaws.com';
  readonly pattern?: unknown;
  readonly schedule?: string;
  readonly targets: readonly TriggerTarget[];
}

const ofType = (resources: Iterable<ResolvedResource>, type: string) => [...resources].filter((r) => r.type === type);

export function pipelinesOf(resources: Iterable<ResolvedResource>): PipelineDefinition[] {
  return ofType(resources, 'AWS::CodePipeline::Pipeline').map((r) => {
    const p = props(r);
    const stages: StageDefinition[] = (
      p.Stages as {
        Name: string;
        Actions: Record<string, unknown>[];
        BeforeEntry?: { Conditions: { Result: string; Rules: { Configuration: { Variable: string; Operator: string; Value: string } }[] }[] };
      }[]
    ).map((s) => ({
      name: s.Name,
      actions: s.Actions.map((a): ActionDefinition => ({
        name: String(a.Name),
        category: (a.ActionTypeId as { Category: string }).Category,
        provider: (a.ActionTypeId as { Provider: string }).Provider,
        configuration: (a.Configuration as Record<string, unknown>) ?? {},
        inputArtifacts: ((a.InputArtifacts as { Name: string }[]) ?? []).map((x) => x.Name),
        outputArtifacts: ((a.OutputArtifacts as { Name: string }[]) ?? []).map((x) => x.Name),
        ...(a.Namespace ? { namespace: String(a.Namespace) } : {}),
        runOrder: Number(a.RunOrder ?? 1),
        ...(a.RoleArn ? { roleArn: String(a.RoleArn) } : {}),
      })),
      ...(s.BeforeEntry && {
        beforeEntry: {
          result: s.BeforeEntry.Conditions[0].Result,
          rules: s.BeforeEntry.Conditions.flatMap((c) =>
            c.Rules.map((rule) => ({ variable: rule.Configuration.Variable, operator: rule.Configuration.Operator, value: rule.Configuration.Value })),
          ),
        },
      }),
    }));
    return {
      name: r.physicalName,
      arn: r.arn!,
      roleArn: String(p.RoleArn),
      artifactBucket: String(p.ArtifactStore.Location),
      ...(p.ArtifactStore.EncryptionKey && { artifactKey: String(p.ArtifactStore.EncryptionKey.Id) }),
      executionMode: String(p.ExecutionMode ?? 'SUPERSEDED'),
      stages,
    };
  });
}

/** Every function with code in the assembly, by physical name. */
export function functionsOf(assembly: Assembly): Map<string, RehearsalFunction & { arn: string }> {
  return new Map(
    assembly
      .resourcesOfType('AWS::Lambda::Function')
      .filter((r) => props(r).Code?.S3Key !== undefined)
      .map((r) => {
        const fn = assembly.lambdaFunction(r.stack, r.logicalId);
        return [
          fn.name,
          {
            name: fn.name,
            arn: fn.arn,
            roleArn: fn.roleArn,
            codeDir: fn.codeDir,
            handler: fn.handler,
            environment: fn.environment,
            timeoutSeconds: fn.timeoutSeconds,
            logGroup: fn.logGroup,
          },
        ] as const;
      }),
  );
}

/** Every CodeBuild project, by physical name. */
export function projectsOf(assembly: Assembly): Map<string, RehearsalProject> {
  return new Map(
    assembly.resourcesOfType('AWS::CodeBuild::Project').map((r) => {
      const p = assembly.buildProject(r.stack, r.logicalId);
      // CodeBuild's precedence: the buildspec's `env.variables`, then the project's (then the action's, at the start of a build).
      const spec = (p.buildSpecObject as { env?: { variables?: Record<string, string> } } | undefined)?.env?.variables ?? {};
      return [
        p.name,
        {
          name: p.name,
          arn: p.arn,
          roleArn: p.roleArn,
          environment: { ...spec, ...p.environment },
          buildSpec: p.buildSpec ?? '',
          timeoutMinutes: p.timeoutMinutes,
          ...(p.logs && { logs: p.logs }),
        },
      ] as const;
    }),
  );
}

export function rulesOf(resources: Iterable<ResolvedResource>): RehearsalRule[] {
  const rules = ofType(resources, 'AWS::Events::Rule').map((r) => ({
    name: r.physicalName,
    arn: r.arn!,
    stack: r.stack,
    service: 'events.amazonaws.com' as const,
    ...(props(r).EventPattern && { pattern: props(r).EventPattern }),
    ...(props(r).ScheduleExpression && { schedule: String(props(r).ScheduleExpression) }),
    targets: (
      (props(r).Targets as {
        Arn: string;
        RoleArn?: string;
        Input?: string;
        InputTransformer?: { InputPathsMap?: Record<string, string>; InputTemplate: string };
      }[]) ?? []
    ).map((t) => ({
      arn: t.Arn,
      ...(t.RoleArn && { roleArn: t.RoleArn }),
      ...(t.Input && { input: t.Input }),
      ...(t.InputTransformer && { inputTransformer: { paths: t.InputTransformer.InputPathsMap ?? {}, template: String(t.InputTransformer.InputTemplate) } }),
    })),
  }));
  const schedules = ofType(resources, 'AWS::Scheduler::Schedule').map((r) => ({
    name: r.physicalName,
    arn: r.arn!,
    stack: r.stack,
    service: 'scheduler.amazonaws.com' as const,
    schedule: String(props(r).ScheduleExpression),
    targets: [
      { arn: String(props(r).Target.Arn), roleArn: String(props(r).Target.RoleArn), ...(props(r).Target.Input && { input: String(props(r).Target.Input) }) },
    ],
  }));
  return [...rules, ...schedules];
}

/** Buckets as moto must hold them: versioning, default encryption, EventBridge notifications. */
export function bucketsOf(resources: Iterable<ResolvedResource>): { name: string; versioned: boolean; kmsKey?: string; eventBridge: boolean }[] {
  return ofType(resources, 'AWS::S3::Bucket').map((r) => {
    const sse = props(r).BucketEncryption?.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault;
    return {
      name: r.physicalName,
      versioned: props(r).VersioningConfiguration?.Status === 'Enabled',
      ...(sse?.SSEAlgorithm === 'aws:kms' && sse.KMSMasterKeyID && { kmsKey: String(sse.KMSMasterKeyID) }),
      eventBridge: props(r).NotificationConfiguration?.EventBridgeConfiguration?.EventBridgeEnabled === true,
    };
  });
}

export function parametersOf(resources: Iterable<ResolvedResource>): { name: string; value: string }[] {
  return ofType(resources, 'AWS::SSM::Parameter').map((r) => ({ name: String(props(r).Name ?? r.physicalName), value: String(props(r).Value) }));
}

export function tablesOf(resources: Iterable<ResolvedResource>): { name: string; partitionKey: string }[] {
  return ofType(resources, 'AWS::DynamoDB::Table').map((r) => ({
    name: r.physicalName,
    partitionKey: String((props(r).KeySchema as { AttributeName: string; KeyType: string }[]).find((k) => k.KeyType === 'HASH')!.AttributeName),
  }));
}

/** The prefixes of the registry's creation templates (`ROOT` for every repository), with their lifecycle rules. */
export function creationTemplatesOf(
  resources: Iterable<ResolvedResource>,
): { prefix: string; lifecyclePolicy?: string; repositoryPolicy?: string; roleArn?: string; kmsKey?: string; tagged: boolean }[] {
  return ofType(resources, 'AWS::ECR::RepositoryCreationTemplate').map((r) => ({
    prefix: String(props(r).Prefix),
    tagged: Array.isArray(props(r).ResourceTags) && (props(r).ResourceTags as unknown[]).length > 0,
    ...(props(r).CustomRoleArn && { roleArn: String(props(r).CustomRoleArn) }),
    ...((props(r).EncryptionConfiguration as { EncryptionType?: string; KmsKey?: string } | undefined)?.EncryptionType === 'KMS' && {
      kmsKey: String((props(r).EncryptionConfiguration as { KmsKey?: string }).KmsKey ?? 'alias/aws/ecr'),
    }),
    ...(props(r).LifecyclePolicy && { lifecyclePolicy: String(props(r).LifecyclePolicy) }),
    ...(props(r).RepositoryPolicy && { repositoryPolicy: String(props(r).RepositoryPolicy) }),
  }));
}

/**
 * The filters (wildcards) of the repositories ECR scans on push: the registry scanning
 * configuration that the warehouses' scanning custom resources (`Custom::EcrRegistryScanning`)
 * leave in the rehearsal's account, which starts with ECR's default (none), merged by the
 * same rules and read from the same properties as their handler's.
 */
export function scanOnPushFiltersOf(resources: Iterable<ResolvedResource>): string[] {
  let account: RegistryScanningConfiguration | undefined;
  for (const r of ofType(resources, REGISTRY_SETTINGS_RESOURCE_TYPES.scanning)) {
    account = planScanOnPush(account, { add: scanOnPushClaimOf(props(r), `${r.stack}/${r.logicalId}`) }).configuration;
  }
  // A continuous rule scans on push too.
  return (account?.rules ?? [])
    .filter((rule) => rule.scanFrequency === SCAN_ON_PUSH || rule.scanFrequency === CONTINUOUS_SCAN)
    .flatMap((rule) => rule.repositoryFilters.map((f) => f.filter));
}

/** Whether the account setting `BLOB_MOUNTING` is switched on by the assembly's registry settings. */
export function blobMountingOf(resources: Iterable<ResolvedResource>): boolean {
  // An AwsCustomResource calling ECR's PutAccountSetting on create.
  return ofType(resources, 'Custom::EcrAccountSetting').some((r) => {
    const create = JSON.parse(String(props(r).Create ?? '{}')) as { action?: string; parameters?: { name?: string; value?: string } };
    return create.action === 'PutAccountSetting' && create.parameters?.name === 'BLOB_MOUNTING' && create.parameters.value === 'ENABLED';
  });
}
