/**
 * Every IAM policy of an assembly, where AWS would find it: per role its trust policy and
 * identity policies (inline, `AWS::IAM::Policy`, customer and AWS managed), and the
 * resource policies of buckets, KMS keys, ECR repositories (and the creation templates
 * repositories are created from) and Lambda functions.
 */
import type { Assembly, ResolvedResource } from '../assembly';
import { RehearsalError } from '../errors';
import { MODELLED_AWS_MANAGED_POLICIES, awsManagedPolicy, awsManagedPolicyPath } from './aws-managed-policies';
import { listOf, policyDocumentOf, type PolicyDocument, type PolicyStatement } from './policy-document';

/** A policy attached to a principal. */
export interface IdentityPolicy {
  /** How the rehearsal names it: `<stack>/<logical id>` (inline: `<stack>/<role>/<PolicyName>`), or an AWS managed policy's ARN. */
  readonly name: string;
  readonly document: PolicyDocument;
}

/** A role of the assembly (or a principal the rehearsal declares) and its policies. */
export interface PrincipalPolicies {
  readonly arn: string;
  readonly name: string;
  /** Where the role is declared; undefined for a principal the rehearsal declares. */
  readonly stack?: string;
  readonly logicalId?: string;
  readonly trustPolicy?: PolicyDocument;
  readonly policies: readonly IdentityPolicy[];
  readonly permissionsBoundary?: IdentityPolicy;
}

/** The policy of a resource, with the words that name it in a decision. */
export interface ResourcePolicy {
  /** e.g. `the bucket policy of <bucket>`. */
  readonly label: string;
  readonly document: PolicyDocument;
}

export class PolicyInventory {
  readonly roles = new Map<string, PrincipalPolicies>();
  private readonly rolesByName = new Map<string, PrincipalPolicies>();
  private readonly bucketPolicies = new Map<string, ResourcePolicy>();
  private readonly keyPolicies = new Map<string, ResourcePolicy>();
  private readonly aliases = new Map<string, string>();
  private readonly repositoryPolicies = new Map<string, ResourcePolicy>();
  private readonly topicPolicies = new Map<string, ResourcePolicy>();
  private readonly creationTemplates: { prefix: string; policy?: ResourcePolicy }[] = [];
  private readonly functionStatements = new Map<string, PolicyStatement[]>();
  /** Policies the assembly attaches to a declared principal (a role or user of the account's own, e.g. a pusher), by its ARN. */
  private readonly declaredAttachments = new Map<string, IdentityPolicy[]>();

  /**
   * @param declared ARNs of the roles and users that are not the assembly's but that the
   * rehearsal declares (the person running `dcf`): a policy the assembly attaches to one of
   * them (by name, as `grantPushConfigurations` attaches to an imported role) is theirs;
   * attaching to any other role, user or group the assembly does not have is an error
   */
  constructor(
    private readonly assembly: Assembly,
    declared: readonly string[] = [],
  ) {
    const declaredByName = new Map<string, string>();
    for (const arn of declared) {
      const m = /:iam::\d{12}:(role|user)\/(?:.*\/)?([^/]+)$/.exec(arn);
      if (m) declaredByName.set(`${m[1]}/${m[2]}`, arn);
    }
    const attached = new Map<string, IdentityPolicy[]>();
    const toDeclared = (arn: string, policy: IdentityPolicy) => this.declaredAttachments.set(arn, [...(this.declaredAttachments.get(arn) ?? []), policy]);
    const attach = (roleName: string, policy: IdentityPolicy, from: ResolvedResource, path: string) => {
      if (!assembly.resourcesOfType('AWS::IAM::Role').some((r) => r.physicalName === roleName)) {
        const declaredArn = declaredByName.get(`role/${roleName}`);
        if (!declaredArn)
          throw new RehearsalError(`attaches to the role ${roleName}, which is not a role of the assembly`, {
            stackName: from.stack,
            logicalId: from.logicalId,
            path,
          });
        toDeclared(declaredArn, policy);
        return;
      }
      attached.set(roleName, [...(attached.get(roleName) ?? []), policy]);
    };
    const attachToUsers = (r: ResolvedResource, policy: IdentityPolicy) => {
      listOf(r.properties.Users as string[] | undefined).forEach((user, i) => {
        const declaredArn = declaredByName.get(`user/${user}`);
        if (!declaredArn)
          throw new RehearsalError(`attaches to the IAM user ${user}, which the rehearsal does not model (declare it as a principal)`, {
            stackName: r.stack,
            logicalId: r.logicalId,
            path: `Properties.Users.${i}`,
          });
        toDeclared(declaredArn, policy);
      });
      if (listOf(r.properties.Groups as string[] | undefined).length > 0) {
        throw new RehearsalError('attaches to IAM groups, which the rehearsal does not model', {
          stackName: r.stack,
          logicalId: r.logicalId,
          path: 'Properties.Groups',
        });
      }
    };
    const managed = new Map<string, IdentityPolicy>();
    for (const mp of assembly.resourcesOfType('AWS::IAM::ManagedPolicy')) {
      const policy = { name: `${mp.stack}/${mp.logicalId}`, document: document(mp, 'PolicyDocument') };
      attachToUsers(mp, policy);
      managed.set(mp.arn as string, policy);
      listOf(mp.properties.Roles as string[] | undefined).forEach((role, i) => attach(role, policy, mp, `Properties.Roles.${i}`));
    }
    for (const p of assembly.resourcesOfType('AWS::IAM::Policy')) {
      const policy = { name: `${p.stack}/${p.logicalId}`, document: document(p, 'PolicyDocument') };
      attachToUsers(p, policy);
      listOf(p.properties.Roles as string[] | undefined).forEach((role, i) => attach(role, policy, p, `Properties.Roles.${i}`));
    }

    for (const role of assembly.resourcesOfType('AWS::IAM::Role')) {
      const managedArns = listOf(role.properties.ManagedPolicyArns as string[] | undefined);
      const fromArns = managedArns.map((arn, i) => managedPolicy(arn, managed, role, `Properties.ManagedPolicyArns.${i}`));
      const inline = ((role.properties.Policies ?? []) as { PolicyName: string; PolicyDocument: unknown }[]).map((p, i) => ({
        name: `${role.stack}/${role.logicalId}/${p.PolicyName}`,
        document: document(role, `Policies.${i}.PolicyDocument`, p.PolicyDocument),
      }));
      const boundary = role.properties.PermissionsBoundary;
      const policies = [...inline, ...(attached.get(role.physicalName) ?? []), ...fromArns].filter(
        (p, i, all) => all.findIndex((q) => q.name === p.name) === i,
      );
      const model: PrincipalPolicies = {
        arn: role.arn as string,
        name: role.physicalName,
        stack: role.stack,
        logicalId: role.logicalId,
        trustPolicy: document(role, 'AssumeRolePolicyDocument'),
        policies,
        ...(typeof boundary === 'string' && { permissionsBoundary: managedPolicy(boundary, managed, role, 'Properties.PermissionsBoundary') }),
      };
      this.roles.set(model.arn, model);
      this.rolesByName.set(model.name, model);
    }

    for (const bp of assembly.resourcesOfType('AWS::S3::BucketPolicy')) {
      const bucket = String(bp.properties.Bucket);
      if (this.bucketPolicies.has(bucket))
        throw new RehearsalError(`a second bucket policy for ${bucket}: a bucket has one`, { stackName: bp.stack, logicalId: bp.logicalId });
      this.bucketPolicies.set(bucket, { label: `the bucket policy of ${bucket}`, document: document(bp, 'PolicyDocument') });
    }
    for (const key of assembly.resourcesOfType('AWS::KMS::Key')) {
      // Without a KeyPolicy, KMS gives a key its default policy: the account's root (and so IAM) may do anything.
      const policy = key.properties.KeyPolicy === undefined ? defaultKeyPolicy(assembly.account) : document(key, 'KeyPolicy');
      this.keyPolicies.set(key.arn as string, { label: `the key policy of ${key.arn}`, document: policy });
    }
    for (const alias of assembly.resourcesOfType('AWS::KMS::Alias')) {
      const target = String(alias.properties.TargetKeyId);
      this.aliases.set(
        alias.physicalName,
        target.startsWith('arn:') ? target : `arn:${assembly.partition}:kms:${assembly.region}:${assembly.account}:key/${target}`,
      );
    }
    for (const repository of assembly.resourcesOfType('AWS::ECR::Repository')) {
      if (repository.properties.RepositoryPolicyText === undefined) continue;
      this.repositoryPolicies.set(repository.arn as string, {
        label: `the repository policy of ${repository.physicalName}`,
        document: document(repository, 'RepositoryPolicyText'),
      });
    }
    for (const template of assembly.resourcesOfType('AWS::ECR::RepositoryCreationTemplate')) {
      const prefix = template.physicalName;
      const policy = template.properties.RepositoryPolicy;
      this.creationTemplates.push({
        prefix,
        ...(policy !== undefined && {
          policy: { label: `the repository policy of the creation template ${prefix}`, document: document(template, 'RepositoryPolicy') },
        }),
      });
    }
    // ECR applies the template with the longest matching prefix.
    this.creationTemplates.sort((a, b) => b.prefix.length - a.prefix.length);
    for (const tp of assembly.resourcesOfType('AWS::SNS::TopicPolicy')) {
      for (const topic of (tp.properties.Topics as unknown[] | undefined) ?? []) {
        const arn = String(topic);
        if (this.topicPolicies.has(arn))
          throw new RehearsalError(`a second topic policy for ${arn}: the later one would replace it`, { stackName: tp.stack, logicalId: tp.logicalId });
        this.topicPolicies.set(arn, { label: `the topic policy of ${arn}`, document: document(tp, 'PolicyDocument') });
      }
    }
    for (const permission of assembly.resourcesOfType('AWS::Lambda::Permission')) {
      const arn = this.functionArn(String(permission.properties.FunctionName));
      this.functionStatements.set(arn, [...(this.functionStatements.get(arn) ?? []), permissionStatement(permission, arn)]);
    }
  }

  /** The policies the assembly attaches to a declared principal (see the constructor), by its ARN. */
  attachedTo(arn: string): readonly IdentityPolicy[] {
    return this.declaredAttachments.get(arn) ?? [];
  }

  /** The role named `name` (its last ARN segment). */
  roleByName(name: string): PrincipalPolicies | undefined {
    return this.rolesByName.get(name);
  }

  /** The key ARN an alias (name or ARN) points at, or `resource` itself. */
  keyArn(resource: string): string {
    const alias = /:(alias\/.+)$/.exec(resource)?.[1] ?? (resource.startsWith('alias/') ? resource : undefined);
    if (alias) return this.aliases.get(alias) ?? resource;
    if (!resource.startsWith('arn:') && resource !== '*')
      return `arn:${this.assembly.partition}:kms:${this.assembly.region}:${this.assembly.account}:key/${resource}`;
    return resource;
  }

  /** Whether `arn` is a KMS key of the assembly. */
  isKey(arn: string): boolean {
    return this.keyPolicies.has(arn);
  }

  /**
   * The resource policy AWS evaluates for a request on `resource`: a bucket's (for the
   * bucket and its objects), a key's, a repository's (or its creation template's), a
   * topic's, a function's (from its Lambda permissions). Undefined when the resource has none.
   */
  resourcePolicyFor(resource: string): ResourcePolicy | undefined {
    const [, partition, service, region, account, ...rest] = resource.split(':');
    const path = rest.join(':');
    if (service === 's3') return this.bucketPolicies.get(path.split('/')[0]);
    if (service === 'kms') return this.keyPolicies.get(resource);
    if (service === 'sns') return this.topicPolicies.get(resource);
    if (service === 'ecr' && path.startsWith('repository/')) {
      const explicit = this.repositoryPolicies.get(resource);
      if (explicit) return explicit;
      const name = path.slice('repository/'.length);
      return this.creationTemplates.find((t) => name.startsWith(`${t.prefix}/`) || t.prefix === 'ROOT')?.policy;
    }
    if (service === 'lambda' && rest[0] === 'function') {
      const statements = this.functionStatements.get(`arn:${partition}:lambda:${region}:${account}:function:${rest[1]}`);
      return statements && { label: `the resource policy of the function ${rest[1]}`, document: { Version: '2012-10-17', Statement: statements } };
    }
    return undefined;
  }

  /** Every resource policy (for validation). */
  resourcePolicies(): ResourcePolicy[] {
    return [
      ...this.bucketPolicies.values(),
      ...this.keyPolicies.values(),
      ...this.repositoryPolicies.values(),
      ...this.topicPolicies.values(),
      ...this.creationTemplates.flatMap((t) => (t.policy ? [t.policy] : [])),
      ...[...this.functionStatements.values()].map((s) => ({ label: 'a function policy', document: { Version: '2012-10-17', Statement: s } })),
    ];
  }

  private functionArn(functionName: string): string {
    const { partition, region, account } = this.assembly;
    if (functionName.startsWith('arn:')) return functionName.split(':').slice(0, 7).join(':');
    const partial = /^(\d{12}):function:([^:]+)/.exec(functionName);
    if (partial) return `arn:${partition}:lambda:${region}:${partial[1]}:function:${partial[2]}`;
    return `arn:${partition}:lambda:${region}:${account}:function:${functionName.split(':')[0]}`;
  }
}

function document(resource: ResolvedResource, property: string, value: unknown = valueAt(resource.properties, property)): PolicyDocument {
  const at = { stackName: resource.stack, logicalId: resource.logicalId, path: `Properties.${property}` };
  try {
    const doc = policyDocumentOf(value);
    if (doc) return doc;
  } catch (cause) {
    throw new RehearsalError('the policy is not valid JSON', { ...at, cause });
  }
  throw new RehearsalError(`expected a policy document, got ${JSON.stringify(value)}`, at);
}

function valueAt(properties: Readonly<Record<string, unknown>>, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], properties);
}

function managedPolicy(arn: string, customer: ReadonlyMap<string, IdentityPolicy>, role: ResolvedResource, path: string): IdentityPolicy {
  const own = customer.get(arn);
  if (own) return own;
  const awsPath = awsManagedPolicyPath(arn);
  const doc = awsPath === undefined ? undefined : awsManagedPolicy(awsPath);
  if (!doc) {
    throw new RehearsalError(
      awsPath === undefined
        ? `attaches the managed policy ${arn}, which is neither in the assembly nor an AWS managed policy`
        : `attaches the AWS managed policy ${arn}, which the rehearsal does not model (it models ${MODELLED_AWS_MANAGED_POLICIES.join(', ')}): add its document to rehearsal/private/aws-managed-policies.ts`,
      { stackName: role.stack, logicalId: role.logicalId, path },
    );
  }
  return { name: arn, document: doc };
}

function defaultKeyPolicy(account: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' }],
  };
}

/** The statement Lambda adds to a function's policy for an `AWS::Lambda::Permission`. */
function permissionStatement(permission: ResolvedResource, functionArn: string): PolicyStatement {
  const p = permission.properties as {
    Action?: string;
    Principal?: string;
    SourceArn?: string;
    SourceAccount?: string;
    PrincipalOrgID?: string;
    FunctionUrlAuthType?: string;
    EventSourceToken?: string;
  };
  const at = { stackName: permission.stack, logicalId: permission.logicalId };
  if (p.EventSourceToken !== undefined) throw new RehearsalError('EventSourceToken (Alexa) permissions are not modelled', at);
  const principal = String(p.Principal);
  const who =
    principal === '*'
      ? '*'
      : /^\d{12}$/.test(principal)
        ? { AWS: `arn:aws:iam::${principal}:root` }
        : principal.startsWith('arn:')
          ? { AWS: principal }
          : { Service: principal };
  const condition: Record<string, Record<string, string>> = {};
  if (p.SourceArn !== undefined) condition.ArnLike = { 'aws:SourceArn': p.SourceArn };
  if (p.SourceAccount !== undefined || p.PrincipalOrgID !== undefined) {
    condition.StringEquals = {
      ...(p.SourceAccount !== undefined && { 'aws:SourceAccount': p.SourceAccount }),
      ...(p.PrincipalOrgID !== undefined && { 'aws:PrincipalOrgID': p.PrincipalOrgID }),
    };
  }
  if (p.FunctionUrlAuthType !== undefined) condition.StringEquals = { ...condition.StringEquals, 'lambda:FunctionUrlAuthType': p.FunctionUrlAuthType };
  return {
    Sid: permission.logicalId,
    Effect: 'Allow',
    Principal: who,
    Action: String(p.Action),
    Resource: functionArn,
    ...(Object.keys(condition).length > 0 && { Condition: condition }),
  };
}
