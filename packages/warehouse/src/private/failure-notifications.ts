/** How the failure topic is opened to its publishers and subscribed to: shared by {@link FailureTopic} and a warehouse given a team's topic. */
import { Annotations, ArnFormat, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IConstruct } from 'constructs';
import { notificationEndpointsProblem, notificationProtocol } from '@devcontainer-factory/core';
import { WarehousePropsError } from '../warehouse-props-error';
import { KMS_TOPIC_PUBLISH_ACTIONS } from './actions';

/** The ARN pattern of every EventBridge rule or CloudWatch alarm of the topic's account and region. */
function sourceArns(scope: IConstruct) {
  const stack = Stack.of(scope);
  return {
    rules: stack.formatArn({ service: 'events', resource: 'rule', resourceName: '*' }),
    alarms: stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
  };
}

/**
 * Lets EventBridge rules and CloudWatch alarms of this account and region publish to the
 * failure topic (confused-deputy guard: `aws:SourceAccount` and `aws:SourceArn`). A topic
 * of this app gets the statements in its policy; for an imported one a warning says
 * what its policy must allow, since nothing reaches the topic otherwise.
 */
export function allowFailurePublishers(scope: IConstruct, topic: sns.ITopic): void {
  const arns = sourceArns(topic);
  const statement = (service: string, sourceArn: string) =>
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(service)],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(topic).account }, ArnLike: { 'aws:SourceArn': sourceArn } },
    });
  const added = [
    topic.addToResourcePolicy(statement('events.amazonaws.com', arns.rules)),
    topic.addToResourcePolicy(statement('cloudwatch.amazonaws.com', arns.alarms)),
  ];
  if (added.every((r) => r.statementAdded)) return;
  Annotations.of(scope).addWarningV2(
    'devcontainer-factory:failure-topic-policy',
    `the failure topic ${topic.node.path} is imported: make sure its policy lets events.amazonaws.com and cloudwatch.amazonaws.com publish (sns:Publish) and, if it is encrypted, its key lets them and the account's roles (through SNS) use kms:Decrypt and kms:GenerateDataKey*, or no failure reaches it`,
  );
}

/**
 * The failure topic key's policy: EventBridge and CloudWatch may encrypt for the topic,
 * and every principal of the account that SNS lets publish (a Lambda's on-failure
 * destination publishes as the function's role) may use the key through SNS only.
 */
export function allowPublishersOnKey(key: kms.Key): void {
  const stack = Stack.of(key);
  // EventBridge's request to KMS carries no aws:SourceAccount or aws:SourceArn when it
  // publishes to an encrypted topic, so a condition on them would drop every
  // notification; the key encrypts nothing but these notifications, and the topic's
  // policy holds EventBridge to this account's rules.
  key.addToResourcePolicy(
    new iam.PolicyStatement({ principals: [new iam.ServicePrincipal('events.amazonaws.com')], actions: [...KMS_TOPIC_PUBLISH_ACTIONS], resources: ['*'] }),
  );
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: [...KMS_TOPIC_PUBLISH_ACTIONS],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account }, ArnLike: { 'aws:SourceArn': sourceArns(key).alarms } },
    }),
  );
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.AnyPrincipal()],
      actions: [...KMS_TOPIC_PUBLISH_ACTIONS],
      resources: ['*'],
      conditions: { StringEquals: { 'kms:CallerAccount': stack.account, 'kms:ViaService': `sns.${stack.region}.amazonaws.com` } },
    }),
  );
}

/**
 * The endpoints to subscribe, checked: each an email address or an `https://` URL, none
 * twice (a token is taken as it is). Throws {@link WarehousePropsError} (with no construct path: the constructor adds it).
 */
export function checkNotify(endpoints: readonly string[]): readonly string[] {
  const problem = notificationEndpointsProblem(endpoints.filter((e) => !Token.isUnresolved(e)));
  if (problem) throw new WarehousePropsError(`notify: ${problem}`);
  return [...endpoints];
}

/** Subscribes each endpoint of {@link checkNotify} to the topic: an email address by email, an `https://` URL by HTTPS. */
export function subscribeToFailures(topic: sns.ITopic, endpoints: readonly string[]): void {
  for (const endpoint of endpoints) {
    topic.addSubscription(
      notificationProtocol(endpoint) === 'email'
        ? new subscriptions.EmailSubscription(endpoint)
        : new subscriptions.UrlSubscription(endpoint, { protocol: sns.SubscriptionProtocol.HTTPS }),
    );
  }
}
