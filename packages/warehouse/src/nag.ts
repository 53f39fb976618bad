/**
 * cdk-nag (v3, `Validations`) acknowledgements shared by the factory's constructs.
 * IAM5 acknowledgements name one exact finding (an action or a resource), so any
 * other wildcard still fails synthesis.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Acknowledges one AwsSolutions rule (or one finding of it) on a construct and everything under it, with the reason. */
export function acknowledgeNag(scope: IConstruct, rule: string, reason: string, finding?: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions::AwsSolutions-${rule}${finding ? `[${finding}]` : ''}`, reason });
}

/**
 * A CloudFormation value written the way cdk-nag writes it in findings: `Ref` and
 * `${X}` of `Fn::Sub` as `<Id>`, `GetAtt` as `<Id.Attr>`. Resolving it in the
 * stack keeps it right whatever the stack's environment and feature flags (e.g.
 * partition literals).
 */
export function nagText(scope: IConstruct, value: unknown): string {
  const visit = (node: unknown): string => {
    if (node === undefined) return '';
    if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
    const o = node as Record<string, unknown>;
    if (o['Fn::Join']) {
      const [delimiter, items] = o['Fn::Join'] as [string, unknown[]];
      return items.map(visit).join(delimiter);
    }
    if (o['Fn::GetAtt']) {
      const [resource, attribute] = o['Fn::GetAtt'] as [unknown, unknown];
      return `<${visit(resource)}.${visit(attribute)}>`;
    }
    if (o.Ref !== undefined) return `<${visit(o.Ref)}>`;
    if (typeof o['Fn::Sub'] === 'string') return visit(o['Fn::Sub']);
    return JSON.stringify(node);
  };
  return visit(Stack.of(scope).resolve(value));
}

/** Acknowledges the wildcard resource finding of a grant on `resourceArn`. */
export function acknowledgeResourceWildcard(scope: IConstruct, resourceArn: string, reason: string): void {
  acknowledgeNag(scope, 'IAM5', reason, `Resource::${nagText(scope, resourceArn)}`);
}
