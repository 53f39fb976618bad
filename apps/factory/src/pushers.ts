/**
 * Who may ship: the roles and users of `-c pushers=…`, granted push on the warehouse
 * (`grantPushConfigurations`), which also lets each through the source bucket's policy.
 */
import { Annotations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { WarehouseStack } from '@devcontainer-factory/warehouse';

/** IAM Identity Center's roles: IAM refuses policies on them, their permission set gives what they may do. */
const IDENTITY_CENTER_ROLE = /:role\/aws-reserved\/sso\.amazonaws\.com\//;

/**
 * Grants push to each pusher in the warehouse stack (an inline policy on the role or user,
 * `Pushers/<role|user>-<name>`), or warns that nobody can push when there is none. A role of
 * IAM Identity Center is only let through the bucket's policy: its permission set must allow
 * the rest, and a warning says so.
 */
export function grantPushers(warehouse: WarehouseStack, pushers: readonly string[]): void {
  if (pushers.length === 0) {
    Annotations.of(warehouse).addWarningV2(
      'devcontainer-factory:no-pushers',
      'no pushers: the source bucket takes configurations from nobody, so every dcf push is denied: deploy with -c pushers=arn:aws:iam::<account>:role/<name>,… (the roles and users who may ship)',
    );
    return;
  }
  const scope = new Construct(warehouse, 'Pushers');
  for (const arn of pushers) {
    const [, kind, path] = /:(role|user)\/(.+)$/.exec(arn)!;
    const id = `${kind}-${path.replace(/[^A-Za-z0-9+=,.@_-]/g, '-')}`;
    const identityCenter = IDENTITY_CENTER_ROLE.test(arn);
    const principal = kind === 'user' ? iam.User.fromUserArn(scope, id, arn) : iam.Role.fromRoleArn(scope, id, arn, { mutable: !identityCenter });
    warehouse.warehouse.grantPushConfigurations(principal);
    if (identityCenter) {
      Annotations.of(principal).addWarningV2(
        'devcontainer-factory:pusher-permission-set',
        `${arn} is a role of IAM Identity Center, which takes no policy from a stack: the source bucket lets it through, but its permission set must allow what dcf push, status and list call (the README of @devcontainer-factory/warehouse lists grantPushConfigurations' actions)`,
      );
    }
  }
}
