/** Test helpers: who may write what, read from synthesized IAM policies. */

/** A CloudFormation value as text: `Fn::Join` joined, `Ref` as `<Id>`, any other intrinsic as `<token>`. */
function text(node: unknown): string {
  if (typeof node === 'string') return node;
  const o = node as Record<string, unknown>;
  const join = o?.['Fn::Join'] as [string, unknown[]] | undefined;
  if (join) return join[1].map(text).join(join[0]);
  if (o?.Ref !== undefined) return `<${String(o.Ref)}>`;
  return '<token>';
}

/** ECR actions that put an image, a layer or a tag into a repository (or every action). */
const ECR_WRITES = ['ecr:PutImage', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:*', '*'];

/** True when an IAM resource (wildcards allowed) covers the ECR repository `name`. */
function covers(resource: string, name: string): boolean {
  if (resource === '*') return true;
  const path = /:repository\/(.*)$/.exec(resource)?.[1];
  if (path === undefined) return false;
  const escape = (part: string) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${path.split('*').map(escape).join('.*')}$`).test(name);
}

interface PolicyResource {
  readonly Type: string;
  readonly Properties: { PolicyDocument: { Statement: { Effect: string; Action: string | string[]; Resource: unknown }[] }; Roles?: { Ref: string }[] };
}

/**
 * The roles (as `<stack>/<logical id>`) whose policies, in any of the templates, allow
 * putting an image, a layer or a tag into repository `name`.
 */
export function repositoryWriters(templates: Record<string, { Resources?: Record<string, unknown> }>, name: string): string[] {
  const writers = new Set<string>();
  for (const [stack, template] of Object.entries(templates)) {
    for (const resource of Object.values(template.Resources ?? {}) as PolicyResource[]) {
      if (resource.Type !== 'AWS::IAM::Policy') continue;
      const writes = resource.Properties.PolicyDocument.Statement.some((st) => {
        const actions = Array.isArray(st.Action) ? st.Action : [st.Action];
        const resources = (Array.isArray(st.Resource) ? st.Resource : [st.Resource]).map(text);
        return st.Effect === 'Allow' && actions.some((a) => ECR_WRITES.includes(a)) && resources.some((r) => covers(r, name));
      });
      if (writes) for (const role of resource.Properties.Roles ?? []) writers.add(`${stack}/${role.Ref}`);
    }
  }
  return [...writers];
}
