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
  if (o?.['Fn::GetAtt']) return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
  return JSON.stringify(value);
}

/** Every IAM action a role's policies allow, with the resources of each statement as text. */
export function roleStatements(template: Template, roleLogicalId: string) {
  const statements: { actions: string[]; resources: string[] }[] = [];
  for (const resource of Object.values(template.findResources('AWS::IAM::Policy'))) {
    const roles = (resource.Properties.Roles as { Ref: string }[]).map((r) => r.Ref);
    if (!roles.includes(roleLogicalId)) continue;
    for (const st of (resource.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement) {
      const actions = Array.isArray(st.Action) ? st.Action : [st.Action];
      const resources = (Array.isArray(st.Resource) ? st.Resource : [st.Resource]).map(cfnText);
      statements.push({ actions, resources });
    }
  }
  return statements;
}
