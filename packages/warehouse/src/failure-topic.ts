import { RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { DEFAULT_NAMESPACE, atConstructPath } from '@devcontainer-factory/core';
import { allowFailurePublishers, allowPublishersOnKey, checkNotify, subscribeToFailures } from './private/failure-notifications';
import { WarehousePropsError } from './warehouse-props-error';

export interface FailureTopicProps {
  /**
   * The namespace whose failures the topic carries, for its display name (the sender
   * name of its emails) and its key's description.
   * @default 'devcontainers'
   */
  readonly namespace?: string;
  /**
   * Email addresses and `https://` URLs to subscribe. An email address is sent a
   * confirmation message first: nothing reaches it until someone confirms.
   * @default - none
   */
  readonly notify?: string[];
  /**
   * An alias of the topic's KMS key, e.g. `alias/devcontainers/factory/notifications`.
   * @default - no alias
   */
  readonly keyAlias?: string;
  /**
   * What happens to the topic (and its subscriptions) and its key when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The SNS topic a namespace's failures go to: failed pipeline actions (sent by an
 * EventBridge rule of each pipeline), CloudWatch alarms (retention errors) and Lambda
 * on-failure destinations. Encrypted with a KMS key of its own (rotation on) that only
 * protects these messages; TLS only; EventBridge rules and CloudWatch alarms of this
 * account and region may publish to it, and any role of the account that is allowed
 * `sns:Publish` on it may encrypt through SNS with its key.
 */
export class FailureTopic extends Construct {
  /** The topic. */
  public readonly topic: sns.Topic;
  /** The key the topic's messages are encrypted with. */
  public readonly encryptionKey: kms.Key;

  constructor(scope: Construct, id: string, props: FailureTopicProps = {}) {
    super(scope, id);
    const notify = checkNotifyAt(this, props.notify ?? []);
    const ns = props.namespace ?? DEFAULT_NAMESPACE;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.encryptionKey = new kms.Key(this, 'Key', {
      description: `devcontainer-factory ${ns}: encrypts the failure notifications`,
      alias: props.keyAlias,
      enableKeyRotation: true,
      removalPolicy,
    });
    allowPublishersOnKey(this.encryptionKey);
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: `devcontainer-factory ${ns} failures`,
      masterKey: this.encryptionKey,
      enforceSSL: true,
    });
    this.topic.applyRemovalPolicy(removalPolicy);
    allowFailurePublishers(this, this.topic);
    subscribeToFailures(this.topic, notify);
  }
}

function checkNotifyAt(scope: Construct, endpoints: readonly string[]): readonly string[] {
  try {
    return checkNotify(endpoints);
  } catch (error) {
    throw atConstructPath(scope.node.path, error, WarehousePropsError);
  }
}
