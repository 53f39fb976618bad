/**
 * What CloudFormation gives each resource type the templates use: its physical name
 * (from the name property, or generated as CloudFormation does), its ARN, what `Ref`
 * returns and the `Fn::GetAtt` attributes. A type that is not here fails the load: a
 * guessed `Ref` would be worse than none.
 */
import { createHash } from 'node:crypto';
import { registrySettingKindOf, registrySettingPhysicalId, type RegistrySettingKind } from '@devcontainer-factory/core';

/** What a type's rules may read about one resource. */
export interface ResourceFacts {
  readonly stackName: string;
  readonly logicalId: string;
  readonly account: string;
  readonly region: string;
  readonly partition: string;
  readonly urlSuffix: string;
  /** One property of the resource, resolved; undefined when the template gives none. */
  prop(name: string): unknown;
}

/** How CloudFormation makes up a name when the template gives none. */
interface GeneratedName {
  readonly maxLength: number;
  /** S3 and ECR names are lowercase. */
  readonly lowercase?: boolean;
}

type Rule = (name: string, facts: ResourceFacts) => string;

export interface ResourceTypeModel {
  /** The property that holds the physical name when the template gives one. */
  readonly nameProperty?: string;
  /** How the name is made up when the template gives none. */
  readonly generated?: GeneratedName;
  /** A physical name that is never generated from the stack (a KMS key id, a registry id). */
  readonly physicalName?: (facts: ResourceFacts) => string;
  readonly arn?: Rule;
  /** What `Ref` returns. @default - the physical name */
  readonly ref?: (name: string, arn: string | undefined, facts: ResourceFacts) => string;
  /** `Fn::GetAtt` attributes besides `Arn` (which every type with an ARN has). */
  readonly attributes?: Readonly<Record<string, Rule>>;
  /** The type has no `Arn` attribute even though it has an ARN (CodePipeline pipelines). */
  readonly noArnAttribute?: boolean;
}

const regional = (service: string, resource: string, f: ResourceFacts) => `arn:${f.partition}:${service}:${f.region}:${f.account}:${resource}`;
const iamPath = (f: ResourceFacts) => {
  const path = f.prop('Path');
  return typeof path === 'string' && path.length > 0 ? path : '/';
};
const stringProp = (f: ResourceFacts, name: string) => {
  const value = f.prop(name);
  return typeof value === 'string' && value.length > 0 ? value : undefined;
};

/** The deterministic stand-in for the random suffix CloudFormation appends: 12 characters from the stack and logical id. */
export function nameSuffix(stackName: string, logicalId: string, length = 12): string {
  const digest = createHash('sha256').update(`${stackName}/${logicalId}`).digest();
  let n = BigInt(`0x${digest.toString('hex')}`);
  let out = '';
  while (out.length < length) {
    out += '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'[Number(n % 36n)];
    n /= 36n;
  }
  return out;
}

/**
 * `<stack>-<logicalId>-<suffix>`, the stack name and logical id shortened (the longer
 * one first) so that the whole fits the service's limit, as CloudFormation does.
 */
export function generatedName(stackName: string, logicalId: string, rule: GeneratedName): string {
  const suffix = nameSuffix(stackName, logicalId);
  const budget = rule.maxLength - suffix.length - 2;
  let [stack, id] = [stackName, logicalId];
  if (stack.length + id.length > budget) {
    const half = Math.floor(budget / 2);
    if (stack.length <= half) id = id.slice(0, budget - stack.length);
    else if (id.length <= budget - half) stack = stack.slice(0, budget - id.length);
    else [stack, id] = [stack.slice(0, half), id.slice(0, budget - half)];
  }
  const name = `${stack}-${id}-${suffix}`;
  return rule.lowercase ? name.toLowerCase() : name;
}

/** A deterministic, UUID-shaped id (KMS key ids, stack ids). */
export function uuidOf(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The physical resource id an `AwsCustomResource` declares in its `Create` call, when it is a fixed one. */
function awsCustomResourceId(facts: ResourceFacts): string | undefined {
  const create = facts.prop('Create');
  if (typeof create !== 'string') return undefined;
  try {
    const id = (JSON.parse(create) as { physicalResourceId?: { id?: unknown } }).physicalResourceId?.id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

const CUSTOM_RESOURCE: ResourceTypeModel = {
  physicalName: (f) => awsCustomResourceId(f) ?? generatedName(f.stackName, f.logicalId, { maxLength: 255 }),
};

/**
 * A `RegistrySettings` merge (`Custom::EcrRegistryScanning`, `Custom::EcrSigningConfiguration`):
 * the physical id its handler returns, and, for scanning, the scan type it reports, which in
 * the rehearsal's account (ECR's default: BASIC, no rules) is the one the resource asks for.
 */
const registrySetting = (kind: RegistrySettingKind): ResourceTypeModel => ({
  physicalName: (f) =>
    registrySettingPhysicalId(
      kind,
      `arn:${f.partition}:cloudformation:${f.region}:${f.account}:stack/${f.stackName}/${uuidOf(`${f.account}/${f.region}/${f.stackName}`)}`,
      f.logicalId,
    ),
  ...(kind === 'scanning' && { attributes: { ScanType: (_name, f) => String(f.prop('ScanType')) } }),
});

const TYPES: Readonly<Record<string, ResourceTypeModel>> = {
  'AWS::S3::Bucket': {
    nameProperty: 'BucketName',
    generated: { maxLength: 63, lowercase: true },
    arn: (name, f) => `arn:${f.partition}:s3:::${name}`,
    attributes: {
      DomainName: (name, f) => `${name}.s3.${f.urlSuffix}`,
      RegionalDomainName: (name, f) => `${name}.s3.${f.region}.${f.urlSuffix}`,
      DualStackDomainName: (name, f) => `${name}.s3.dualstack.${f.region}.${f.urlSuffix}`,
      WebsiteURL: (name, f) => `http://${name}.s3-website-${f.region}.${f.urlSuffix}`,
    },
  },
  'AWS::S3::BucketPolicy': { generated: { maxLength: 255 } },
  'AWS::IAM::Role': {
    nameProperty: 'RoleName',
    generated: { maxLength: 64 },
    arn: (name, f) => `arn:${f.partition}:iam::${f.account}:role${iamPath(f)}${name}`,
    attributes: { RoleId: (_name, f) => `AROA${nameSuffix(f.stackName, f.logicalId, 17)}` },
  },
  'AWS::IAM::Policy': { generated: { maxLength: 128 } },
  'AWS::IAM::ManagedPolicy': {
    nameProperty: 'ManagedPolicyName',
    generated: { maxLength: 128 },
    arn: (name, f) => `arn:${f.partition}:iam::${f.account}:policy${iamPath(f)}${name}`,
    ref: (_name, arn) => arn as string,
    attributes: { PolicyArn: (name, f) => `arn:${f.partition}:iam::${f.account}:policy${iamPath(f)}${name}` },
  },
  'AWS::Lambda::Function': {
    nameProperty: 'FunctionName',
    generated: { maxLength: 64 },
    arn: (name, f) => regional('lambda', `function:${name}`, f),
  },
  'AWS::Lambda::Permission': { generated: { maxLength: 64 } },
  'AWS::KMS::Key': {
    physicalName: (f) => uuidOf(`${f.account}/${f.region}/${f.stackName}/${f.logicalId}`),
    arn: (id, f) => regional('kms', `key/${id}`, f),
    attributes: { KeyId: (id) => id },
  },
  'AWS::KMS::Alias': {
    nameProperty: 'AliasName',
    generated: { maxLength: 256 },
    arn: (name, f) => regional('kms', name, f),
    noArnAttribute: true,
  },
  'AWS::DynamoDB::Table': {
    nameProperty: 'TableName',
    generated: { maxLength: 255 },
    arn: (name, f) => regional('dynamodb', `table/${name}`, f),
    attributes: { StreamArn: (name, f) => regional('dynamodb', `table/${name}/stream/1970-01-01T00:00:00.000`, f) },
  },
  'AWS::CodePipeline::Pipeline': {
    nameProperty: 'Name',
    generated: { maxLength: 100 },
    arn: (name, f) => regional('codepipeline', name, f),
    attributes: { Version: () => '1' },
    noArnAttribute: true,
  },
  'AWS::CodeBuild::Project': {
    nameProperty: 'Name',
    generated: { maxLength: 255 },
    arn: (name, f) => regional('codebuild', `project/${name}`, f),
  },
  'AWS::Logs::LogGroup': {
    nameProperty: 'LogGroupName',
    generated: { maxLength: 512 },
    // As CloudFormation's `Fn::GetAtt Arn` gives it: with the `:*` of its log streams.
    arn: (name, f) => regional('logs', `log-group:${name}:*`, f),
  },
  'AWS::Events::Rule': {
    nameProperty: 'Name',
    generated: { maxLength: 64 },
    arn: (name, f) => {
      const bus = stringProp(f, 'EventBusName');
      return regional('events', `rule/${bus && bus !== 'default' ? `${bus}/` : ''}${name}`, f);
    },
    ref: (name, _arn, f) => {
      const bus = stringProp(f, 'EventBusName');
      return bus && bus !== 'default' ? `${bus}|${name}` : name;
    },
  },
  'AWS::SSM::Parameter': {
    nameProperty: 'Name',
    generated: { maxLength: 2048 },
    arn: (name, f) => regional('ssm', `parameter${name.startsWith('/') ? '' : '/'}${name}`, f),
    attributes: { Type: (_name, f) => String(f.prop('Type')), Value: (_name, f) => String(f.prop('Value')) },
  },
  'AWS::Scheduler::Schedule': {
    nameProperty: 'Name',
    generated: { maxLength: 64 },
    arn: (name, f) => regional('scheduler', `schedule/${stringProp(f, 'GroupName') ?? 'default'}/${name}`, f),
  },
  'AWS::ECR::Repository': {
    nameProperty: 'RepositoryName',
    generated: { maxLength: 256, lowercase: true },
    arn: (name, f) => regional('ecr', `repository/${name}`, f),
    attributes: { RepositoryUri: (name, f) => `${f.account}.dkr.ecr.${f.region}.${f.urlSuffix}/${name}` },
  },
  // ECR names a creation template and a pull-through cache rule by their prefix; neither has an ARN.
  'AWS::ECR::RepositoryCreationTemplate': { nameProperty: 'Prefix' },
  'AWS::ECR::PullThroughCacheRule': { nameProperty: 'EcrRepositoryPrefix' },
  'AWS::ECR::RegistryScanningConfiguration': { physicalName: (f) => f.account, attributes: { RegistryId: (_name, f) => f.account } },
  'AWS::ECR::RegistryPolicy': { physicalName: (f) => f.account, attributes: { RegistryId: (_name, f) => f.account } },
  'AWS::ECR::ReplicationConfiguration': { physicalName: (f) => f.account, attributes: { RegistryId: (_name, f) => f.account } },
  'AWS::SNS::Topic': {
    nameProperty: 'TopicName',
    generated: { maxLength: 256 },
    arn: (name, f) => regional('sns', name, f),
    // A topic's `Ref` is its ARN.
    ref: (_name, arn) => String(arn),
    attributes: { TopicArn: (name, f) => regional('sns', name, f), TopicName: (name) => name },
  },
  'AWS::SNS::TopicPolicy': { generated: { maxLength: 255 } },
  'AWS::SNS::Subscription': { generated: { maxLength: 255 } },
  'AWS::CloudWatch::Alarm': {
    nameProperty: 'AlarmName',
    generated: { maxLength: 255 },
    arn: (name, f) => regional('cloudwatch', `alarm:${name}`, f),
  },
  'AWS::Lambda::EventInvokeConfig': { generated: { maxLength: 255 } },
  'AWS::CDK::Metadata': { generated: { maxLength: 255 } },
  'AWS::CloudFormation::CustomResource': CUSTOM_RESOURCE,
};

/** The model of a resource type; undefined for a type the rehearsal does not model. */
export function resourceTypeModel(type: string): ResourceTypeModel | undefined {
  const setting = registrySettingKindOf(type);
  if (setting) return registrySetting(setting);
  if (type.startsWith('Custom::')) return CUSTOM_RESOURCE;
  return TYPES[type];
}

/** Every type the rehearsal models (for messages). */
export const MODELLED_RESOURCE_TYPES: readonly string[] = [...Object.keys(TYPES), 'Custom::*'];

/** The physical name the template gives, or the one CloudFormation would make up. */
export function physicalNameOf(model: ResourceTypeModel, facts: ResourceFacts): string {
  if (model.nameProperty) {
    const given = facts.prop(model.nameProperty);
    if (given !== undefined) return String(given);
  }
  if (model.physicalName) return model.physicalName(facts);
  return generatedName(facts.stackName, facts.logicalId, model.generated ?? { maxLength: 255 });
}
