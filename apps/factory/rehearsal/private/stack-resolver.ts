/**
 * Resolves one stack's template for one account and region: parameters, conditions,
 * rules, physical names, ARNs, `Ref` and `Fn::GetAtt`, every property and output.
 * Resolution is lazy and memoised (a property may need another resource's name, which
 * may need a parameter that another stack's SSM parameter gives), with a guard that
 * turns a cycle into an error instead of a stack overflow.
 */
import { RehearsalError } from '../errors';
import { NO_VALUE, evaluateCondition, resolveValue, type IntrinsicScope } from './intrinsics';
import { MODELLED_RESOURCE_TYPES, physicalNameOf, resourceTypeModel, uuidOf, type ResourceFacts, type ResourceTypeModel } from './resource-types';

/** The CDK bootstrap version the rehearsal's environment has (the template of the workspace's aws-cdk CLI). */
export const REHEARSAL_BOOTSTRAP_VERSION = '33';
const BOOTSTRAP_VERSION_PARAMETER = /^\/cdk-bootstrap\/[^/]+\/version$/;

export interface Environment {
  readonly account: string;
  readonly region: string;
  readonly partition: string;
  readonly urlSuffix: string;
}

/** What a stack needs from the assembly around it. */
export interface AssemblyLookups {
  /** The value another stack writes to SSM parameter `name`; throws when no stack does. */
  ssmParameter(name: string, reader: string, path: string): string;
}

interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Condition?: string;
  readonly DependsOn?: string | string[];
  readonly Metadata?: Record<string, unknown>;
}

interface TemplateParameter {
  readonly Type: string;
  readonly Default?: unknown;
}

export interface Template {
  readonly Parameters?: Record<string, TemplateParameter>;
  readonly Conditions?: Record<string, unknown>;
  readonly Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  readonly Rules?: Record<string, { RuleCondition?: unknown; Assertions?: { Assert: unknown; AssertDescription?: string }[] }>;
  readonly Resources?: Record<string, TemplateResource>;
  readonly Outputs?: Record<string, { Value: unknown; Description?: string; Condition?: string; Export?: { Name: unknown } }>;
}

/** One resource, resolved. */
export interface ResolvedResourceData {
  readonly logicalId: string;
  readonly type: string;
  /** The properties with every intrinsic function evaluated (`AWS::NoValue` ones removed). */
  readonly properties: Readonly<Record<string, unknown>>;
  /** The name the template gives, or the one CloudFormation would generate (`<stack>-<logicalId>-<suffix>`, within the service's limit). */
  readonly physicalName: string;
  /** Its ARN, for types that have one (a log group's as `Fn::GetAtt Arn` gives it, ending in `:*`). */
  readonly arn?: string;
  /** What `Ref` returns: a bucket, role, function, table, pipeline, project or parameter name, a key id, a managed policy's ARN… */
  readonly ref: string;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly dependsOn: readonly string[];
}

export interface ResolvedOutputData {
  readonly value: unknown;
  readonly description?: string;
  readonly exportName?: string;
}

const PSEUDO_PARAMETERS = ['AWS::AccountId', 'AWS::Region', 'AWS::Partition', 'AWS::URLSuffix', 'AWS::StackName', 'AWS::StackId', 'AWS::NotificationARNs'];

export class StackResolver {
  private readonly memo = new Map<string, unknown>();
  private readonly resolving: string[] = [];

  constructor(
    readonly stackName: string,
    private readonly template: Template,
    private readonly env: Environment,
    private readonly lookups: AssemblyLookups,
  ) {
    for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
      if (!resourceTypeModel(resource.Type)) {
        throw new RehearsalError(`the rehearsal does not model resources of type ${resource.Type} (it models ${MODELLED_RESOURCE_TYPES.join(', ')})`, {
          stackName,
          logicalId,
          path: 'Type',
        });
      }
    }
  }

  /** The logical ids of the resources the stack creates (those whose condition holds). */
  logicalIds(): string[] {
    return Object.keys(this.template.Resources ?? {}).filter((id) => this.exists(id));
  }

  /** The logical ids of every resource of `type` the stack creates. */
  logicalIdsOfType(type: string): string[] {
    return this.logicalIds().filter((id) => this.template.Resources?.[id]?.Type === type);
  }

  /** Checks the template's rules (CDK's `CheckBootstrapVersion`), as CloudFormation does before it deploys. */
  checkRules(): void {
    for (const [name, rule] of Object.entries(this.template.Rules ?? {})) {
      const path = `Rules.${name}`;
      if (rule.RuleCondition !== undefined && !evaluateCondition(rule.RuleCondition, `${path}.RuleCondition`, this.scope(undefined))) continue;
      (rule.Assertions ?? []).forEach((assertion, i) => {
        if (!evaluateCondition(assertion.Assert, `${path}.Assertions.${i}.Assert`, this.scope(undefined))) {
          throw new RehearsalError(`rule ${name} fails: ${assertion.AssertDescription ?? JSON.stringify(assertion.Assert)}`, {
            stackName: this.stackName,
            path: `${path}.Assertions.${i}`,
          });
        }
      });
    }
  }

  /** Every parameter's value. */
  parameters(): Map<string, string | string[]> {
    return new Map(Object.keys(this.template.Parameters ?? {}).map((name) => [name, this.parameter(name, `Parameters.${name}`)]));
  }

  resource(logicalId: string): ResolvedResourceData {
    const resource = this.declared(logicalId);
    return {
      logicalId,
      type: resource.Type,
      properties: this.properties(logicalId),
      physicalName: this.physicalName(logicalId),
      arn: this.arn(logicalId),
      ref: this.refOf(logicalId, 'Ref', logicalId),
      metadata: resource.Metadata ?? {},
      dependsOn: resource.DependsOn === undefined ? [] : [resource.DependsOn].flat(),
    };
  }

  outputs(): Map<string, ResolvedOutputData> {
    const outputs = new Map<string, ResolvedOutputData>();
    for (const [name, output] of Object.entries(this.template.Outputs ?? {})) {
      const path = `Outputs.${name}`;
      if (output.Condition !== undefined && !this.condition(output.Condition, `${path}.Condition`)) continue;
      const scope = this.scope(undefined);
      const exportName = output.Export === undefined ? undefined : resolveValue(output.Export.Name, `${path}.Export.Name`, scope);
      outputs.set(name, {
        value: resolveValue(output.Value, `${path}.Value`, scope),
        ...(output.Description !== undefined && { description: output.Description }),
        ...(exportName !== undefined && { exportName: String(exportName) }),
      });
    }
    return outputs;
  }

  /** One top-level property of a resource, resolved (undefined when absent). */
  property(logicalId: string, name: string): unknown {
    return this.once(`prop:${logicalId}:${name}`, logicalId, `Properties.${name}`, () => {
      const value = this.declared(logicalId).Properties?.[name];
      if (value === undefined) return undefined;
      const resolved = resolveValue(value, `Properties.${name}`, this.scope(logicalId));
      return resolved === NO_VALUE ? undefined : resolved;
    });
  }

  private properties(logicalId: string): Record<string, unknown> {
    const declared = this.declared(logicalId).Properties ?? {};
    const out: Record<string, unknown> = {};
    for (const name of Object.keys(declared)) {
      const value = this.property(logicalId, name);
      if (value !== undefined) out[name] = value;
    }
    return out;
  }

  physicalName(logicalId: string): string {
    return this.once(`name:${logicalId}`, logicalId, 'physical name', () => physicalNameOf(this.model(logicalId), this.facts(logicalId)));
  }

  arn(logicalId: string): string | undefined {
    const rule = this.model(logicalId).arn;
    return rule && this.once(`arn:${logicalId}`, logicalId, 'ARN', () => rule(this.physicalName(logicalId), this.facts(logicalId)));
  }

  private refOf(logicalId: string, path: string, owner?: string): string {
    this.mustExist(logicalId, path, owner);
    const model = this.model(logicalId);
    const name = this.physicalName(logicalId);
    return model.ref ? model.ref(name, this.arn(logicalId), this.facts(logicalId)) : name;
  }

  private attribute(logicalId: string, attribute: string, path: string, owner?: string): unknown {
    this.mustExist(logicalId, path, owner);
    const resource = this.declared(logicalId, path, owner);
    const model = this.model(logicalId);
    const rule = model.attributes?.[attribute];
    if (rule) return rule(this.physicalName(logicalId), this.facts(logicalId));
    if (attribute === 'Arn' && model.arn && !model.noArnAttribute) return this.arn(logicalId);
    const custom = resource.Type.startsWith('Custom::') || resource.Type === 'AWS::CloudFormation::CustomResource';
    return this.fail(
      custom
        ? `Fn::GetAtt ${logicalId}.${attribute}: the attributes of a custom resource come from its handler at deploy time, which the rehearsal does not run`
        : `Fn::GetAtt ${logicalId}.${attribute}: the rehearsal does not model the attribute ${attribute} of ${resource.Type}`,
      path,
      owner,
    );
  }

  private parameter(name: string, path: string): string | string[] {
    return this.once(`param:${name}`, undefined, path, () => {
      const declared = this.template.Parameters?.[name];
      if (!declared) return this.fail(`${name} is not in the template's Parameters`, path);
      const list = /List<|CommaDelimitedList/.test(declared.Type);
      const split = (value: string) => (list ? value.split(',') : value);
      const ssm = /^AWS::SSM::Parameter::Value<(.+)>$/.exec(declared.Type);
      if (ssm) {
        if (typeof declared.Default !== 'string')
          return this.fail(`parameter ${name} (${declared.Type}) names no SSM parameter in its Default`, `Parameters.${name}`);
        if (BOOTSTRAP_VERSION_PARAMETER.test(declared.Default)) return REHEARSAL_BOOTSTRAP_VERSION;
        return split(this.lookups.ssmParameter(declared.Default, this.stackName, `Parameters.${name}`));
      }
      if (declared.Default === undefined)
        return this.fail(`parameter ${name} has no Default, and the rehearsal passes no parameter values`, `Parameters.${name}`);
      return split(String(declared.Default));
    });
  }

  private condition(name: string, path: string): boolean {
    return this.once(`condition:${name}`, undefined, path, () => {
      const expression = this.template.Conditions?.[name];
      if (expression === undefined) return this.fail(`the condition ${name} is not in the template's Conditions`, path);
      return evaluateCondition(expression, `Conditions.${name}`, this.scope(undefined));
    });
  }

  private exists(logicalId: string): boolean {
    const condition = this.template.Resources?.[logicalId]?.Condition;
    return condition === undefined || this.condition(condition, `Resources.${logicalId}.Condition`);
  }

  private mustExist(logicalId: string, path: string, owner?: string): void {
    this.declared(logicalId, path, owner);
    if (!this.exists(logicalId)) this.fail(`refers to ${logicalId}, which its condition leaves out of the stack`, path, owner);
  }

  private ref(name: string, path: string, owner?: string): unknown {
    if (PSEUDO_PARAMETERS.includes(name)) return this.pseudo(name);
    if (name.startsWith('AWS::')) return this.fail(`the rehearsal does not model the pseudo parameter ${name}`, path, owner);
    if (this.template.Parameters?.[name]) return this.parameter(name, path);
    if (this.template.Resources?.[name]) return this.refOf(name, path, owner);
    return this.fail(`Ref ${name}: no parameter, resource or pseudo parameter of that name`, path, owner);
  }

  private pseudo(name: string): string | string[] {
    switch (name) {
      case 'AWS::AccountId':
        return this.env.account;
      case 'AWS::Region':
        return this.env.region;
      case 'AWS::Partition':
        return this.env.partition;
      case 'AWS::URLSuffix':
        return this.env.urlSuffix;
      case 'AWS::StackName':
        return this.stackName;
      case 'AWS::StackId':
        return `arn:${this.env.partition}:cloudformation:${this.env.region}:${this.env.account}:stack/${this.stackName}/${uuidOf(`${this.env.account}/${this.env.region}/${this.stackName}`)}`;
      default:
        return [];
    }
  }

  private scope(logicalId: string | undefined): IntrinsicScope {
    return {
      region: this.env.region,
      ref: (name, path) => this.ref(name, path, logicalId),
      getAtt: (id, attribute, path) => this.attribute(id, attribute, path, logicalId),
      condition: (name, path) => this.condition(name, path),
      findInMap: (map, top, second, path) => {
        const value = this.template.Mappings?.[map]?.[top]?.[second];
        return value === undefined ? this.fail(`Fn::FindInMap: ${map}.${top}.${second} is not in the template's Mappings`, path, logicalId) : value;
      },
      fail: (message, path) => this.fail(message, path, logicalId),
    };
  }

  private facts(logicalId: string): ResourceFacts {
    return { stackName: this.stackName, logicalId, ...this.env, prop: (name) => this.property(logicalId, name) };
  }

  private model(logicalId: string): ResourceTypeModel {
    return resourceTypeModel(this.declared(logicalId).Type) as ResourceTypeModel;
  }

  private declared(logicalId: string, path = 'Resources', owner?: string): TemplateResource {
    const found = this.template.Resources?.[logicalId];
    if (!found) return this.fail(`${logicalId} is not in the template's Resources`, path, owner);
    return found;
  }

  /** Memoises `compute` under `key`, and turns a key that needs itself into an error that shows the chain. */
  private once<T>(key: string, logicalId: string | undefined, path: string, compute: () => T): T {
    if (this.memo.has(key)) return this.memo.get(key) as T;
    if (this.resolving.includes(key)) {
      this.fail(`circular reference: ${[...this.resolving.slice(this.resolving.indexOf(key)), key].join(' -> ')}`, path, logicalId);
    }
    this.resolving.push(key);
    try {
      const value = compute();
      this.memo.set(key, value);
      return value;
    } finally {
      this.resolving.pop();
    }
  }

  private fail(message: string, path: string, logicalId?: string): never {
    throw new RehearsalError(message, { stackName: this.stackName, logicalId, path });
  }
}
