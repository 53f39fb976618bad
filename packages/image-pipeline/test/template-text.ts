/** Test helpers: read synthesized CloudFormation values as text. */
import type { Template } from 'aws-cdk-lib/assertions';

/** A CloudFormation value as text: joins `Fn::Join`, writes `Ref` as `<Id>` and `GetAtt` as `<Id.Attr>`. */
export function cfnText(value: unknown): string {
  if (typeof value === 'string') return value;
  const o = value as Record<string, unknown>;
  if (o?.['Fn::Join']) {
    const [delimiter, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.map(cfnText).join(delimiter);
  }
  if (o?.Ref !== undefined) return `<${o.Ref}>`;
  if (typeof o?.['Fn::Sub'] === 'string') return o['Fn::Sub'];
  if (o?.['Fn::GetAtt']) return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
  return JSON.stringify(value);
}

type Statement = { actions: string[]; resources: string[] };

function statementsOf(resource: Record<string, unknown>): Statement[] {
  return (
    (resource as { Properties: { PolicyDocument: unknown } }).Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }
  ).Statement.map((st) => ({
    actions: Array.isArray(st.Action) ? st.Action : [st.Action],
    resources: (Array.isArray(st.Resource) ? st.Resource : [st.Resource]).map(cfnText),
  }));
}

/** Every IAM action a role's policies allow, with the resources of each statement as text. */
export function roleStatements(template: Template, roleLogicalId: string): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((resource) => (resource.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleLogicalId))
    .flatMap(statementsOf);
}

/** The statements of one `AWS::IAM::Policy`, by logical id. */
export function roleStatementsOfPolicy(template: Template, policyLogicalId: string): Statement[] {
  return statementsOf(template.findResources('AWS::IAM::Policy')[policyLogicalId]);
}

/** ECR actions that put an image, a layer or a tag into a repository (or all actions). */
export function isEcrWrite(action: string): boolean {
  return ['ecr:PutImage', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:*', '*'].includes(action);
}

/** True when an IAM resource (as text, wildcards allowed) covers the ECR repository `name`. */
export function covers(resource: string, name: string): boolean {
  if (resource === '*') return true;
  const path = /:repository\/(.*)$/.exec(resource)?.[1];
  if (path === undefined) return false;
  const escape = (part: string) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${path.split('*').map(escape).join('.*')}$`).test(name);
}
