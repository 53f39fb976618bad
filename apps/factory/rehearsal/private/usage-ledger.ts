/**
 * Which grants the rehearsal used: every authorization is recorded, and each allowed one
 * marks the (statement, action, resource pattern) triples of the identity statements that
 * allowed it. What a role was granted and never used is what least privilege could drop.
 */
import type { ActionCatalog } from './action-catalog';
import { listOf, statementsOf } from './policy-document';
import type { PrincipalPolicies } from './policy-inventory';

/** One thing an identity policy statement allows: an action on a resource pattern. */
export interface Grant {
  /** The policy, as the rehearsal names it (`<stack>/<logical id>`). */
  readonly policy: string;
  /** The statement's number in the policy, from 1. */
  readonly statement: number;
  readonly sid?: string;
  /** One action (a wildcard expanded), or `NotAction:…` for a statement that grants by exclusion. */
  readonly action: string;
  /** The resource pattern as the policy writes it, or `NotResource:…`. */
  readonly resource: string;
}

/** One call to `authorize` (or `assume`). */
export interface AuthorizationRecord {
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  readonly allowed: boolean;
  readonly why: string;
}

/** A denied call, with how many times it was made. */
export interface DeniedCall extends AuthorizationRecord {
  readonly count: number;
}

/** What one principal was granted and used. */
export interface RoleUsage {
  readonly roleArn: string;
  readonly stack?: string;
  readonly logicalId?: string;
  /** Calls made as this principal. */
  readonly calls: number;
  /** How many (statement, action, resource pattern) triples its Allow statements grant. */
  readonly granted: number;
  /** The granted triples no allowed call matched. */
  readonly unused: readonly Grant[];
}

export interface UsageReport {
  readonly calls: number;
  readonly allowed: number;
  /** Distinct denied calls, in the order they were first made. */
  readonly denied: readonly DeniedCall[];
  readonly roles: readonly RoleUsage[];
}

/** The key of a grant (actions compare without case, as IAM compares them). */
export function grantKey(policy: string, statement: number, action: string, resource: string): string {
  return JSON.stringify([policy, statement, action.toLowerCase(), resource]);
}

/** The triples a principal's Allow statements grant, wildcard actions expanded through the catalogue. */
export function grantsOf(principal: PrincipalPolicies, catalog: ActionCatalog): Grant[] {
  const grants = new Map<string, Grant>();
  for (const policy of principal.policies) {
    statementsOf(policy.document).forEach((st, i) => {
      if (st.Effect !== 'Allow') return;
      const actions = st.NotAction !== undefined ? [`NotAction:${listOf(st.NotAction).join(',')}`] : listOf(st.Action).flatMap((a) => catalog.expand(a));
      const resources = st.NotResource !== undefined ? [`NotResource:${listOf(st.NotResource).join(',')}`] : listOf(st.Resource);
      for (const action of actions) {
        for (const resource of resources) {
          const grant: Grant = { policy: policy.name, statement: i + 1, ...(st.Sid !== undefined && { sid: st.Sid }), action, resource };
          grants.set(grantKey(grant.policy, grant.statement, action, resource), grant);
        }
      }
    });
  }
  return [...grants.values()];
}

export class UsageLedger {
  private readonly records: AuthorizationRecord[] = [];
  private readonly used = new Map<string, Set<string>>();
  private readonly callsBy = new Map<string, number>();

  constructor(
    private readonly principals: ReadonlyMap<string, PrincipalPolicies>,
    private readonly grants: ReadonlyMap<string, readonly Grant[]>,
  ) {}

  /** Records a call; `used` are the grant keys that allowed it, `roleArn` the principal's role. */
  record(call: AuthorizationRecord, roleArn: string | undefined, used: readonly string[]): void {
    this.records.push(call);
    if (roleArn === undefined) return;
    this.callsBy.set(roleArn, (this.callsBy.get(roleArn) ?? 0) + 1);
    const set = this.used.get(roleArn) ?? new Set<string>();
    for (const key of used) set.add(key);
    this.used.set(roleArn, set);
  }

  report(): UsageReport {
    const denied = new Map<string, DeniedCall>();
    for (const r of this.records) {
      if (r.allowed) continue;
      const key = JSON.stringify([r.principal, r.action, r.resource]);
      const seen = denied.get(key);
      denied.set(key, { ...r, count: (seen?.count ?? 0) + 1 });
    }
    const roles = [...this.principals.values()].map((p) => {
      const used = this.used.get(p.arn) ?? new Set<string>();
      const granted = this.grants.get(p.arn) ?? [];
      return {
        roleArn: p.arn,
        ...(p.stack !== undefined && { stack: p.stack, logicalId: p.logicalId }),
        calls: this.callsBy.get(p.arn) ?? 0,
        granted: granted.length,
        unused: granted.filter((g) => !used.has(grantKey(g.policy, g.statement, g.action, g.resource))),
      };
    });
    return { calls: this.records.length, allowed: this.records.filter((r) => r.allowed).length, denied: [...denied.values()], roles };
  }
}
