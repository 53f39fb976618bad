/**
 * IAM as AWS would evaluate it for the assembly: every call a rehearsed Lambda, CodeBuild
 * project or pipeline makes is checked with `@cloud-copilot/iam-simulate` against the
 * principal's identity policies and the resource's policy (bucket, KMS key, ECR
 * repository, Lambda function), in one account; each service assuming a role is checked
 * against the role's trust policy. Decisions say why, and the model keeps the account of
 * which grants were used, so that a rehearsal also shows what is granted and never used.
 */
import { runSimulation, type RunSimulationResults, type Simulation } from '@cloud-copilot/iam-simulate';
import type { Assembly } from './assembly';
import { RehearsalError } from './errors';
import { ActionCatalog, servicesOf } from './private/action-catalog';
import { decisiveAnalysis, explainDecision, identityAllowStatements } from './private/decision-reason';
import { listOf, statementsOf, type PolicyDocument } from './private/policy-document';
import { PolicyInventory, type PrincipalPolicies } from './private/policy-inventory';
import { UsageLedger, grantKey, grantsOf, type Grant, type UsageReport } from './private/usage-ledger';

export type { AuthorizationRecord, DeniedCall, Grant, RoleUsage, UsageReport } from './private/usage-ledger';
export type { PolicyDocument, PolicyStatement } from './private/policy-document';

/** A request to authorize: who does what on which resource. */
export interface AuthorizationRequest {
  /** A role ARN (or an assumed-role session ARN of it, or a declared principal's ARN, or a service principal). */
  readonly principal: string;
  /** e.g. `ecr:BatchGetImage`. */
  readonly action: string;
  /** The resource ARN, or `*` for actions that take none; for KMS also a key id or alias. */
  readonly resource: string;
  /** Request context keys; they override the defaults (`aws:SecureTransport` true, `aws:PrincipalArn`, …). */
  readonly context?: Readonly<Record<string, string | string[]>>;
}

export interface Decision {
  readonly allowed: boolean;
  /** Names principal, action and resource, and the decisive reason. */
  readonly why: string;
}

export interface IamModelOptions {
  /**
   * Principals that are not roles of the assembly (the person running `dcf`), by ARN,
   * with their identity policies; the policies the assembly attaches to them (a pusher's
   * grant, attached to its role by name) are added.
   * @default - none: only the assembly's roles and service principals may make requests
   */
  readonly principals?: Readonly<Record<string, readonly PolicyDocument[]>>;
  /**
   * The clock of `aws:CurrentTime` and `aws:EpochTime`, fixed for the model so that
   * decisions can be cached.
   * @default - the time the model is made
   */
  readonly now?: Date;
}

/** What an ARN names as a principal. */
export type Principal =
  | { readonly kind: 'role'; readonly arn: string; readonly accountId: string; readonly roleName: string }
  | { readonly kind: 'assumed-role'; readonly arn: string; readonly accountId: string; readonly roleName: string; readonly sessionName: string }
  | { readonly kind: 'user'; readonly arn: string; readonly accountId: string; readonly userName: string }
  | { readonly kind: 'service'; readonly arn: string; readonly service: string };

/** Parses a principal: a role, assumed-role session or user ARN, or a service principal (`lambda.amazonaws.com`). */
export function principalOf(arn: string): Principal {
  if (/^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$/.test(arn)) return { kind: 'service', arn, service: arn };
  const iam = /^arn:[^:]+:iam::(\d{12}):(role|user)\/(?:.*\/)?([^/]+)$/.exec(arn);
  if (iam) return iam[2] === 'role' ? { kind: 'role', arn, accountId: iam[1], roleName: iam[3] } : { kind: 'user', arn, accountId: iam[1], userName: iam[3] };
  const session = /^arn:[^:]+:sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/.exec(arn);
  if (session) return { kind: 'assumed-role', arn, accountId: session[1], roleName: session[2], sessionName: session[3] };
  throw new RehearsalError(`${arn} is not a principal the rehearsal knows (a role, assumed-role session or user ARN, or a service principal)`);
}

/** The ARN of a session of `roleArn`, as STS names it (without the role's path). */
export function assumedRoleArn(roleArn: string, sessionName: string): string {
  const role = principalOf(roleArn);
  if (role.kind !== 'role') throw new RehearsalError(`${roleArn} is not a role ARN`);
  return `arn:${roleArn.split(':')[1]}:sts::${role.accountId}:assumed-role/${role.roleName}/${sessionName}`;
}

interface Evaluation {
  readonly allowed: boolean;
  readonly why: string;
  readonly used: readonly string[];
}

/**
 * What one Allow statement of a principal's identity policies did in a rehearsal:
 * - `needed`: without it, a call the rehearsal made is denied (`call` names one);
 * - `redundant`: it allowed calls, but each is also allowed without it;
 * - `unused`: no allowed call matched it.
 */
export interface StatementVerdict {
  readonly principal: string;
  readonly policy: string;
  /** The statement's number in the policy, from 1. */
  readonly statement: number;
  readonly sid?: string;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly verdict: 'needed' | 'redundant' | 'unused';
  /** For `needed`: a call denied without the statement. */
  readonly call?: { readonly action: string; readonly resource: string };
  /** For `redundant` and `needed`: how many distinct allowed calls it matched. */
  readonly calls: number;
}

/** A request that was allowed, with what it takes to simulate it again. */
interface AllowedRequest {
  readonly request: AuthorizationRequest;
  readonly principal: Principal;
  readonly identity: PrincipalPolicies;
  readonly resource: string;
  readonly used: readonly string[];
}

export class IamModel {
  /**
   * Collects the policies of every role and resource of the assembly, loads the action
   * catalogue of the services they name, and checks every policy with iam-simulate's
   * validator.
   * @throws RehearsalError for a policy the rehearsal cannot model (an AWS managed policy it does not know, a policy that does not validate)
   */
  static async fromAssembly(assembly: Assembly, options: IamModelOptions = {}): Promise<IamModel> {
    const inventory = new PolicyInventory(assembly, Object.keys(options.principals ?? {}));
    const principals = new Map(inventory.roles);
    for (const [arn, documents] of Object.entries(options.principals ?? {})) {
      const p = principalOf(arn);
      if (p.kind === 'service') throw new RehearsalError(`${arn} is a service principal: it has no identity policies to declare`);
      // Its own policies, and those the assembly attaches to it (a pusher's grant).
      const policies = [...documents.map((document, i) => ({ name: `${arn}#${i + 1}`, document })), ...inventory.attachedTo(arn)];
      principals.set(arn, { arn, name: p.kind === 'user' ? p.userName : p.roleName, policies });
    }
    const actions = [...principals.values()].flatMap((p) =>
      p.policies.flatMap((policy) => statementsOf(policy.document).flatMap((s) => [...listOf(s.Action), ...listOf(s.NotAction)])),
    );
    const catalog = await ActionCatalog.load(servicesOf(actions));
    const model = new IamModel(assembly, inventory, principals, catalog, options.now ?? new Date());
    await model.validate();
    return model;
  }

  private readonly cache = new Map<string, Promise<Evaluation>>();
  /** Distinct allowed requests of principals with identity policies, by the cache's key. */
  private readonly allowedRequests = new Map<string, AllowedRequest>();
  private readonly grants: ReadonlyMap<string, readonly Grant[]>;
  private readonly ledger: UsageLedger;

  private constructor(
    private readonly assembly: Assembly,
    private readonly inventory: PolicyInventory,
    private readonly principals: ReadonlyMap<string, PrincipalPolicies>,
    private readonly catalog: ActionCatalog,
    private readonly now: Date,
  ) {
    this.grants = new Map([...principals.values()].map((p) => [p.arn, grantsOf(p, catalog)]));
    this.ledger = new UsageLedger(principals, this.grants);
  }

  /** Session policies of role sessions, by session ARN (see {@link declareSession}). */
  private readonly sessionPolicies = new Map<string, PolicyDocument>();

  /**
   * Declares a session of a role of the assembly that carries a session policy, as STS's
   * `AssumeRole` with `Policy` makes one (CodePipeline's artifact credentials for a job
   * are such a session of the pipeline's role): a call of the session is allowed only
   * where the role's policies and the session policy both allow it.
   * @param sessionArn `arn:aws:sts::<account>:assumed-role/<role name>/<session name>`
   * @throws RehearsalError when it is not a session of a role of the assembly
   */
  declareSession(sessionArn: string, policy: PolicyDocument): void {
    if (principalOf(sessionArn).kind !== 'assumed-role') throw new RehearsalError(`${sessionArn} is not an assumed-role session ARN`);
    this.identity(sessionArn);
    this.sessionPolicies.set(sessionArn, policy);
  }

  /** The ARNs of the principals that have identity policies: the assembly's roles and the declared principals. */
  principalArns(): string[] {
    return [...this.principals.keys()];
  }

  /** The actions a principal's Allow statements grant, wildcards expanded, sorted (on any resource). */
  actionsOf(principal: string): string[] {
    const model = this.identity(principal);
    return [...new Set((this.grants.get(model.arn) ?? []).map((g) => g.action))].sort();
  }

  /**
   * Whether `principal` may do `action` on `resource`, as AWS decides it in one account:
   * the principal's identity policies, the resource's policy (a KMS key's must allow,
   * directly or by delegating to IAM), and explicit denies in either. Every call is
   * recorded for {@link report}; equal requests are simulated once.
   * @throws RehearsalError for a principal the model does not know, or a request iam-simulate rejects (an unknown action, a resource the action does not take)
   */
  async authorize(request: AuthorizationRequest): Promise<Decision> {
    const principal = principalOf(request.principal);
    const identity = principal.kind === 'service' ? undefined : this.identity(request.principal);
    const resource = request.action.toLowerCase().startsWith('kms:') ? this.inventory.keyArn(request.resource) : request.resource;
    const key = JSON.stringify([request.principal, request.action.toLowerCase(), resource, sorted(request.context)]);
    let evaluation = this.cache.get(key);
    if (!evaluation) {
      evaluation = this.evaluate(request, principal, identity, resource);
      this.cache.set(key, evaluation);
    }
    const { allowed, why, used } = await evaluation;
    this.ledger.record({ principal: request.principal, action: request.action, resource: request.resource, allowed, why }, identity?.arn, used);
    if (allowed && identity && !this.allowedRequests.has(key)) this.allowedRequests.set(key, { request, principal, identity, resource, used });
    return { allowed, why };
  }

  /**
   * For every Allow statement of every principal's identity policies, whether the calls
   * made so far need it: each allowed call that matched the statement is simulated again
   * with that one statement taken out of its policy, until one is denied. A statement
   * is needed when removing it denies a call; otherwise removing it changes nothing the
   * rehearsal did, and least privilege could drop it (or narrow it, for `redundant`).
   */
  async statementVerdicts(): Promise<StatementVerdict[]> {
    const verdicts: StatementVerdict[] = [];
    for (const identity of this.principals.values()) {
      const requests = [...this.allowedRequests.values()].filter((r) => r.identity.arn === identity.arn);
      for (const policy of identity.policies) {
        const statements = statementsOf(policy.document);
        for (const [i, st] of statements.entries()) {
          if (st.Effect !== 'Allow') continue;
          const prefix = JSON.stringify([policy.name, i + 1]).slice(0, -1);
          const matched = requests.filter((r) => r.used.some((k) => k.startsWith(`${prefix},`)));
          const base = {
            principal: identity.arn,
            policy: policy.name,
            statement: i + 1,
            ...(st.Sid !== undefined && { sid: st.Sid }),
            actions: st.NotAction !== undefined ? [`NotAction:${listOf(st.NotAction).join(',')}`] : [...listOf(st.Action)],
            resources: st.NotResource !== undefined ? [`NotResource:${listOf(st.NotResource).join(',')}`] : [...listOf(st.Resource)],
            calls: matched.length,
          };
          if (matched.length === 0) {
            verdicts.push({ ...base, verdict: 'unused' });
            continue;
          }
          const remaining = statements.filter((_, j) => j !== i);
          const without: PrincipalPolicies = {
            ...identity,
            policies: identity.policies.flatMap((p) =>
              p !== policy ? [p] : remaining.length > 0 ? [{ ...p, document: { ...p.document, Statement: remaining } }] : [],
            ),
          };
          let denied: AllowedRequest | undefined;
          for (const r of matched) {
            const again = await this.simulate(r.request, r.principal, without, r.resource, this.inventory.resourcePolicyFor(r.resource));
            if (!again.allowed) {
              denied = r;
              break;
            }
          }
          verdicts.push(
            denied
              ? { ...base, verdict: 'needed', call: { action: denied.request.action, resource: denied.request.resource } }
              : { ...base, verdict: 'redundant' },
          );
        }
      }
    }
    return verdicts;
  }

  /**
   * Whether the service `servicePrincipal` (e.g. `lambda.amazonaws.com`) may assume the
   * role, by the role's trust policy; pass `aws:SourceAccount` and `aws:SourceArn` in
   * `context` as the service would (a trust policy that requires them denies without).
   */
  async assume(servicePrincipal: string, roleArn: string, context: Readonly<Record<string, string | string[]>> = {}): Promise<Decision> {
    if (principalOf(servicePrincipal).kind !== 'service') throw new RehearsalError(`${servicePrincipal} is not a service principal`);
    const role = this.inventory.roles.get(roleArn);
    if (!role) throw new RehearsalError(`${roleArn} is not a role of the assembly`);
    const key = JSON.stringify(['assume', servicePrincipal, roleArn, sorted(context)]);
    let evaluation = this.cache.get(key);
    if (!evaluation) {
      const trust = { label: `the trust policy of ${roleArn}`, document: role.trustPolicy as PolicyDocument };
      evaluation = this.simulate(
        { principal: servicePrincipal, action: 'sts:AssumeRole', resource: roleArn, context },
        principalOf(servicePrincipal),
        undefined,
        roleArn,
        trust,
      );
      this.cache.set(key, evaluation);
    }
    const { allowed, why } = await evaluation;
    this.ledger.record({ principal: servicePrincipal, action: 'sts:AssumeRole', resource: roleArn, allowed, why }, undefined, []);
    return { allowed, why };
  }

  /** Totals, the denied calls, and per principal the granted (statement, action, resource pattern) triples no allowed call used. */
  report(): UsageReport {
    return this.ledger.report();
  }

  private evaluate(request: AuthorizationRequest, principal: Principal, identity: PrincipalPolicies | undefined, resource: string): Promise<Evaluation> {
    return this.simulate(request, principal, identity, resource, this.inventory.resourcePolicyFor(resource));
  }

  private async simulate(
    request: AuthorizationRequest,
    principal: Principal,
    identity: PrincipalPolicies | undefined,
    resource: string,
    resourcePolicy: ReturnType<PolicyInventory['resourcePolicyFor']>,
  ): Promise<Evaluation> {
    const simulation: Simulation = {
      request: {
        principal: request.principal,
        action: request.action,
        resource: { resource, accountId: resourceAccount(resource, this.assembly.account) },
        contextVariables: { ...this.defaultContext(principal, identity), ...request.context },
      },
      identityPolicies: (identity?.policies ?? []).map((p) => ({ name: p.name, policy: p.document })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(resourcePolicy && { resourcePolicy: resourcePolicy.document }),
      ...(identity?.permissionsBoundary && {
        permissionBoundaryPolicies: [{ name: identity.permissionsBoundary.name, policy: identity.permissionsBoundary.document }],
      }),
      ...(this.sessionPolicies.has(request.principal) && { sessionPolicy: this.sessionPolicies.get(request.principal) }),
    };
    const result = await runSimulation(simulation, {});
    if (result.resultType === 'error') {
      throw new RehearsalError(`iam-simulate cannot evaluate ${request.principal} doing ${request.action} on ${resource}: ${describeErrors(result)}`);
    }
    const analysis = decisiveAnalysis(result);
    const allowed = result.overallResult === 'Allowed';
    const why = explainDecision(
      {
        principal: request.principal,
        action: request.action,
        resource: request.resource,
        ...(identity && { identityLabel: `the identity policies of ${identity.arn} (${identity.policies.map((p) => p.name).join(', ') || 'none'})` }),
        ...(resourcePolicy && { resourcePolicy }),
        kmsKey: resource.startsWith('arn:') && resource.split(':')[2] === 'kms' && resource.split(':')[5]?.startsWith('key/') === true,
        account: this.assembly.account,
      },
      analysis,
    );
    const action = this.catalog.canonical(request.action);
    const used = allowed
      ? identityAllowStatements(analysis).flatMap((s) => {
          const raw = statementsOf((identity?.policies.find((p) => p.name === s.policyId) as { document: PolicyDocument }).document)[s.statement.index() - 1];
          const actionLabel = raw.NotAction !== undefined ? `NotAction:${listOf(raw.NotAction).join(',')}` : action;
          const resources =
            raw.NotResource !== undefined
              ? [`NotResource:${listOf(raw.NotResource).join(',')}`]
              : [s.explain.resources ?? []]
                  .flat()
                  .filter((r) => r.matches)
                  .map((r) => r.resource);
          return resources.map((r) => grantKey(s.policyId, s.statement.index(), actionLabel, r));
        })
      : [];
    return { allowed, why, used };
  }

  /** The request context AWS fills in for a same-account call over TLS. */
  private defaultContext(principal: Principal, identity: PrincipalPolicies | undefined): Record<string, string> {
    const common = {
      'aws:SecureTransport': 'true',
      'aws:CurrentTime': this.now.toISOString(),
      'aws:EpochTime': String(Math.floor(this.now.getTime() / 1000)),
      'aws:RequestedRegion': this.assembly.region,
      'aws:ResourceAccount': this.assembly.account,
      's3:TlsVersion': '1.3',
    };
    if (principal.kind === 'service') return { ...common, 'aws:PrincipalServiceName': principal.service, 'aws:PrincipalIsAWSService': 'true' };
    return {
      ...common,
      'aws:PrincipalArn': identity?.arn ?? principal.arn,
      'aws:PrincipalAccount': principal.accountId,
      'aws:PrincipalType': principal.kind === 'user' ? 'User' : 'AssumedRole',
      'aws:PrincipalIsAWSService': 'false',
      'aws:ViaAWSService': 'false',
    };
  }

  /** The identity policies of a role (by ARN or session ARN) or declared principal. */
  private identity(arn: string): PrincipalPolicies {
    const direct = this.principals.get(arn);
    if (direct) return direct;
    const principal = principalOf(arn);
    const byName = principal.kind === 'assumed-role' || principal.kind === 'role' ? this.inventory.roleByName(principal.roleName) : undefined;
    if (byName && (principal.kind === 'assumed-role' || byName.arn === arn)) return byName;
    throw new RehearsalError(`${arn} is neither a role of the assembly nor a declared principal (IamModelOptions.principals)`);
  }

  /** Runs iam-simulate's validation over every policy once, so that a bad policy fails the load, not a call. */
  private async validate(): Promise<void> {
    const check = async (what: string, simulation: Omit<Simulation, 'request' | 'serviceControlPolicies' | 'resourceControlPolicies'>, principal: string) => {
      const result = await runSimulation(
        {
          ...simulation,
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          request: { principal, action: 'sts:GetCallerIdentity', resource: { resource: '*', accountId: this.assembly.account }, contextVariables: {} },
        },
        {},
      );
      if (result.resultType === 'error') throw new RehearsalError(`${what} does not validate: ${describeErrors(result)}`);
    };
    for (const p of this.principals.values()) {
      await check(`a policy of ${p.arn}`, { identityPolicies: p.policies.map((policy) => ({ name: policy.name, policy: policy.document })) }, p.arn);
      if (p.trustPolicy) await check(`the trust policy of ${p.arn}`, { identityPolicies: [], resourcePolicy: p.trustPolicy }, p.arn);
    }
    for (const policy of this.inventory.resourcePolicies()) {
      await check(policy.label, { identityPolicies: [], resourcePolicy: policy.document }, `arn:aws:iam::${this.assembly.account}:root`);
    }
  }
}

/** The account that owns a resource: the ARN's, or (S3 ARNs have none, `*`) the assembly's. */
function resourceAccount(resource: string, account: string): string {
  const fromArn = resource.startsWith('arn:') ? resource.split(':')[4] : '';
  return fromArn && /^\d{12}$/.test(fromArn) ? fromArn : account;
}

function sorted(context: Readonly<Record<string, string | string[]>> | undefined): [string, string | string[]][] {
  return Object.entries(context ?? {}).sort(([a], [b]) => a.localeCompare(b));
}

function describeErrors(result: Extract<RunSimulationResults, { resultType: 'error' }>): string {
  const { message, ...details } = result.errors;
  return Object.keys(details).length > 0 ? `${message} ${JSON.stringify(details)}` : message;
}
