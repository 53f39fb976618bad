/**
 * The `why` of a decision, from iam-simulate's analysis: who, what, on which resource,
 * and the decisive reason (the statements that allowed it; the statement that denied it;
 * that nothing allows it, with the statements that nearly do; that a KMS key policy
 * neither allows the principal nor delegates to IAM).
 */
import type { ConditionExplain, RequestAnalysis, SuccessfulRunSimulationResults } from '@cloud-copilot/iam-simulate';
import type { ResourcePolicy } from './policy-inventory';

type StatementAnalysis = NonNullable<RequestAnalysis['identityAnalysis']>['allowStatements'][number];

export interface ReasonInput {
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  /** How to name the principal's policies, e.g. `the identity policies of role X`; undefined for a service principal. */
  readonly identityLabel?: string;
  readonly resourcePolicy?: ResourcePolicy;
  /** The resource is a KMS key: its key policy must allow, directly or by delegating to IAM. */
  readonly kmsKey: boolean;
  readonly account: string;
}

/** The analysis that decided: the allowed one, else an explicitly denied one, else the first. */
export function decisiveAnalysis(result: SuccessfulRunSimulationResults): RequestAnalysis | undefined {
  if (result.resultType === 'single') return result.result.analysis;
  const analyses = result.results.map((r) => r.analysis);
  return analyses.find((a) => a.result === 'Allowed') ?? analyses.find((a) => a.result === 'ExplicitlyDenied') ?? analyses[0];
}

/** The identity statements that allowed the request. */
export function identityAllowStatements(analysis: RequestAnalysis | undefined): StatementAnalysis[] {
  return analysis?.result === 'Allowed' && analysis.identityAnalysis?.result === 'Allowed' ? analysis.identityAnalysis.allowStatements : [];
}

export function explainDecision(input: ReasonInput, analysis: RequestAnalysis | undefined): string {
  const { principal, action, resource } = input;
  if (analysis?.result === 'Allowed') return `${principal} may ${action} on ${resource}: allowed by ${allowedBy(input, analysis)}`;
  const head = `${principal} may not ${action} on ${resource}: `;
  if (analysis?.result === 'ExplicitlyDenied') return head + deniedBy(input, analysis);
  return head + notAllowed(input, analysis);
}

function allowedBy(input: ReasonInput, analysis: RequestAnalysis): string {
  const identity = analysis.identityAnalysis?.result === 'Allowed' ? analysis.identityAnalysis.allowStatements.map((s) => statementName(s, s.policyId)) : [];
  const resource = (analysis.resourceAnalysis?.allowStatements ?? []).map((s) => {
    const name = statementName(s, input.resourcePolicy?.label ?? 'the resource policy');
    return input.kmsKey && s.principalMatch === 'AccountLevelMatch' ? `${name}, which delegates to IAM` : name;
  });
  return [...identity, ...resource].join(' and ') || 'no statement (an action that needs no permission)';
}

function deniedBy(input: ReasonInput, analysis: RequestAnalysis): string {
  const statements = [
    ...(analysis.identityAnalysis?.denyStatements ?? []).map((s) => statementName(s, s.policyId) + heldConditions(s)),
    ...(analysis.resourceAnalysis?.denyStatements ?? []).map((s) => statementName(s, input.resourcePolicy?.label ?? 'the resource policy') + heldConditions(s)),
    ...(analysis.permissionBoundaryAnalysis?.denyStatements ?? []).map((s) => statementName(s, `the permissions boundary ${s.policyId}`) + heldConditions(s)),
  ];
  return `explicitly denied by ${statements.join(' and ') || 'a Deny statement'}`;
}

function notAllowed(input: ReasonInput, analysis: RequestAnalysis | undefined): string {
  const identityAllows = analysis?.identityAnalysis?.result === 'Allowed';
  const resourceAllows = (analysis?.resourceAnalysis?.allowStatements ?? []).length > 0;
  if (input.kmsKey && identityAllows && !resourceAllows) {
    if (!input.resourcePolicy)
      return `the key is not a key of the assembly, so the rehearsal knows no key policy that would allow it (identity policies alone never give access to a KMS key)`;
    return `${input.resourcePolicy.label} neither allows the principal nor delegates to IAM (no statement allows arn:aws:iam::${input.account}:root), so ${analysis?.identityAnalysis?.allowStatements.map((s) => statementName(s, s.policyId)).join(' and ')} does not count`;
  }
  if (identityAllows && analysis?.permissionBoundaryAnalysis && analysis.permissionBoundaryAnalysis.result !== 'Allowed') {
    return 'the identity policies allow it, but the permissions boundary does not';
  }
  if (input.identityLabel === undefined) {
    const misses = nearMisses(analysis?.resourceAnalysis?.unmatchedStatements ?? [], input.resourcePolicy?.label ?? 'the resource policy', true);
    return `${input.resourcePolicy ? `no statement of ${input.resourcePolicy.label} allows it` : 'the resource has no policy that could allow a service principal'}${misses}`;
  }
  const misses = nearMisses(analysis?.identityAnalysis?.unmatchedStatements ?? [], undefined, false);
  const delegation = (analysis?.resourceAnalysis?.allowStatements ?? []).find((s) => s.principalMatch === 'AccountLevelMatch');
  const resourcePart = !input.resourcePolicy
    ? ''
    : input.kmsKey && delegation
      ? ` (${statementName(delegation, input.resourcePolicy.label)} delegates to IAM, so an identity policy must allow it)`
      : `, nor does ${input.resourcePolicy.label}`;
  return `no statement allows it: ${input.identityLabel} grant no ${input.action} on ${input.resource}${resourcePart}${misses}`;
}

/** Allow statements that name the action but not this resource, or whose conditions fail. */
function nearMisses(statements: readonly StatementAnalysis[], label: string | undefined, resourcePolicy: boolean): string {
  const misses = statements
    .filter((s) => s.explain.effect === 'Allow' && s.actionMatch && (!resourcePolicy || s.principalMatch !== 'NoMatch'))
    .map((s) => {
      const name = statementName(s, label ?? s.policyId);
      if (!s.resourceMatch) return `${name} grants it on ${resourcesOf(s).join(', ')} only`;
      if (s.conditionMatch !== 'Match') return `${name} grants it only when ${failedConditions(s.explain.conditions ?? [])}`;
      return undefined;
    })
    .filter((m): m is string => m !== undefined);
  return misses.length > 0 ? ` (${misses.slice(0, 3).join('; ')}${misses.length > 3 ? `; and ${misses.length - 3} more` : ''})` : '';
}

function resourcesOf(s: StatementAnalysis): string[] {
  const explains = [s.explain.resources ?? s.explain.notResources ?? []].flat();
  return explains.map((r) => (s.explain.notResources ? `anything but ${r.resource}` : r.resource));
}

function failedConditions(conditions: readonly ConditionExplain[]): string {
  return (
    conditions
      .filter((c) => !c.matches)
      .map((c) => `${c.operator} ${c.conditionKeyValue}${c.failedBecauseMissing ? ' (not in the request)' : ''} holds`)
      .join(' and ') || 'its conditions hold'
  );
}

/** The conditions of a matching Deny statement, e.g. ` (Bool aws:SecureTransport false)`. */
function heldConditions(s: StatementAnalysis): string {
  const conditions = (s.explain.conditions ?? []).map(
    (c) =>
      `${c.operator} ${c.conditionKeyValue} ${[c.values]
        .flat()
        .map((v) => v.value)
        .join('|')}`,
  );
  return conditions.length > 0 ? ` (${conditions.join(', ')})` : '';
}

function statementName(s: StatementAnalysis, policy: string): string {
  const sid = s.statement.sid();
  return `${policy} statement ${s.statement.index()}${sid ? ` (${sid})` : ''}`;
}
