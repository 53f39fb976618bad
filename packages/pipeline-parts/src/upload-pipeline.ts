import { Token } from 'aws-cdk-lib';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct, IConstruct } from 'constructs';
import { type ArtifactKind, ARTIFACT_PREFIX_LENGTH, MAX_PIPELINE_NAME_LENGTH, artifactPrefix, pipelineName } from '@devcontainer-factory/core';
import { ARTIFACT_READ_WRITE_ACTIONS, type IWarehouse, acknowledgeArtifactAccess } from '@devcontainer-factory/warehouse';
import { addFailureRule } from './failure-rule';
import { codePipelineFor, eventBridgeInAccount } from './service-principals';

export interface UploadPipelineProps {
  /** The warehouse of the namespace: the upload is read from its source bucket, artifacts go to its artifact bucket. */
  readonly warehouse: IWarehouse;
  /** Whether the pipeline is an image's or a feature's. */
  readonly kind: ArtifactKind;
  /**
   * The image or feature id, already validated: the pipeline reads `<ns>/images/<id>.zip`
   * (or `<ns>/features/<id>.zip`) and is named `<ns>-<kind>-<id>` unless given a `pipelineName`.
   */
  readonly artifactId: string;
  /**
   * The pipeline's name, already validated.
   * @default - `<ns>-<kind>-<id>` (`pipelineName` of `@devcontainer-factory/core`)
   */
  readonly pipelineName?: string;
  /** The artifact the Source action writes the upload into; the later stages read it. */
  readonly source: codepipeline.Artifact;
  /** The stages after Source, in order. */
  readonly stages: codepipeline.StageProps[];
  /** What happens when an upload arrives while an execution is running. */
  readonly executionMode: codepipeline.ExecutionMode;
  /**
   * Namespace of the Source action's output variables (`#{<ns>.VersionId}`, `#{<ns>.ETag}`).
   * @default - the Source action's variables are not exposed
   */
  readonly sourceVariablesNamespace?: string;
}

/** What {@link addUploadPipeline} adds. */
export interface UploadPipeline {
  readonly pipeline: codepipeline.Pipeline;
  /** The Source stage's S3 action on the exact source key. */
  readonly sourceAction: actions.S3SourceAction;
  /** The EventBridge rule that starts the pipeline on an upload of that key. */
  readonly sourceRule: events.Rule;
  /**
   * The role EventBridge rules start the pipeline with: only EventBridge acting for a rule
   * of this account and region may assume it. Give it to any further rule that starts the
   * pipeline (`new targets.CodePipeline(pipeline, { eventRole })`).
   */
  readonly eventRole: iam.IRole;
  /** The EventBridge rule that sends the pipeline's failed actions to the warehouse's failure topic; absent when it has none. */
  readonly failureRule?: events.Rule;
}

/**
 * Adds to `scope` the CodePipeline (V2) of one image or feature, as the construct
 * `Pipeline`, and the EventBridge rule `SourceUploaded` that starts it: the Source
 * stage reads the exact key `<ns>/<kind>s/<id>.zip` from the warehouse's source
 * bucket without polling, and the rule matches that key in the bucket's `Object
 * Created` events (the source bucket sends its events to EventBridge: no polling,
 * no CloudTrail trail). The pipeline keeps its artifacts in the warehouse's
 * artifact bucket, and its own role makes CodePipeline's calls for every action;
 * each stage's work runs under that stage's role. Only CodePipeline running this
 * pipeline may assume the pipeline's role, and only EventBridge acting for a rule of this
 * account may assume the role that starts it (`aws:SourceAccount`, `aws:SourceArn`).
 */
export function addUploadPipeline(scope: Construct, props: UploadPipelineProps): UploadPipeline {
  const { warehouse, kind, artifactId } = props;
  const sourceKey = warehouse.sourceKey(kind, artifactId);
  const sourceAction = new actions.S3SourceAction({
    actionName: 'Source',
    bucket: warehouse.sourceBucket,
    bucketKey: sourceKey,
    output: props.source,
    // Started by the EventBridge rule below instead of polling or a CloudTrail trail.
    trigger: actions.S3Trigger.NONE,
    variablesNamespace: props.sourceVariablesNamespace,
  });
  const name = props.pipelineName ?? pipelineName(warehouse.namespace, kind, artifactId);
  claimArtifactPrefix(scope, warehouse, name);
  const role = new iam.Role(scope, 'PipelineRole', {
    assumedBy: codePipelineFor(scope, name),
    description: `CodePipeline runs the pipeline ${name} with this role`,
  });
  const pipeline = new codepipeline.Pipeline(scope, 'Pipeline', {
    pipelineName: name,
    role,
    pipelineType: codepipeline.PipelineType.V2,
    executionMode: props.executionMode,
    // CDK grants the pipeline role read and write on the whole artifact bucket; this view narrows every such grant to the pipeline's own prefix.
    artifactBucket: prefixScopedBucket(warehouse.artifactBucket, artifactPrefix(name)),
    crossAccountKeys: false,
    usePipelineRoleForActions: true,
    stages: [{ stageName: 'Source', actions: [sourceAction] }, ...props.stages],
  });
  acknowledgeArtifactAccess(pipeline.role, warehouse, ARTIFACT_READ_WRITE_ACTIONS, `${artifactPrefix(name)}/*`);
  // One role for every rule that starts the pipeline; the target grants it StartPipelineExecution on this pipeline only.
  const eventRole = new iam.Role(scope, 'PipelineEventsRole', {
    assumedBy: eventBridgeInAccount(scope),
    description: `EventBridge rules start the pipeline ${name} with this role`,
  });

  const sourceRule = new events.Rule(scope, 'SourceUploaded', {
    description: `Starts the ${kind} pipeline when ${sourceKey} is uploaded`,
    eventPattern: {
      source: ['aws.s3'],
      detailType: ['Object Created'],
      detail: { bucket: { name: [warehouse.sourceBucket.bucketName] }, object: { key: [sourceKey] } },
    },
    targets: [new targets.CodePipeline(pipeline, { eventRole })],
  });
  // Each failed action goes to the warehouse's failure topic, when it has one.
  const topic = warehouse.failureTopic;
  const failureRule = topic ? addFailureRule(scope, { pipeline, pipelineName: name, topic, kind, artifactId }) : undefined;
  return { pipeline, sourceAction, sourceRule, eventRole, ...(failureRule && { failureRule }) };
}

/** CodePipeline's rule for a pipeline name: 1 to 100 characters of `A-Z a-z 0-9 . @ - _`. */
const PIPELINE_NAME = /^[A-Za-z0-9.@_-]{1,100}$/;

/**
 * What is wrong with a pipeline name chosen by the caller (`pipelineName` prop), as a
 * sentence that says what to pass, or `undefined` when CodePipeline accepts it. A token
 * is refused: the name must be known at synthesis (its first 20 characters are the
 * artifact prefix the stage roles may read).
 */
export function pipelineNameProblem(name: string): string | undefined {
  if (Token.isUnresolved(name)) return 'pipelineName must be a string known at synthesis, not a token';
  if (PIPELINE_NAME.test(name)) return undefined;
  return `pipelineName '${name}' is not a CodePipeline name: use 1 to ${MAX_PIPELINE_NAME_LENGTH} characters of A-Z, a-z, 0-9, '.', '@', '-' and '_' (it has ${name.length})`;
}

/** The object grants of `s3.IBucket` that CDK's pipeline and actions make on the artifact bucket. */
const OBJECT_GRANTS = ['grantRead', 'grantWrite', 'grantReadWrite', 'grantPut', 'grantDelete'] as const;

/**
 * The artifact bucket as one pipeline sees it: the same bucket, whose object grants
 * (`grantRead`, `grantReadWrite`, …) cover only `<prefix>/*`, the pipeline's own
 * artifacts. CDK's `Pipeline` grants its role `grantReadWrite` on the bucket it is
 * given, which would let the role of one pipeline read, overwrite and delete every
 * other pipeline's artifacts (which the next stage runs as code).
 */
export function prefixScopedBucket(bucket: s3.IBucket, prefix: string): s3.IBucket {
  const pattern = `${prefix}/*`;
  const scoped: s3.IBucket = Object.create(bucket);
  for (const grant of OBJECT_GRANTS) {
    Object.defineProperty(scoped, grant, {
      value: (grantee: iam.IGrantable, objectsKeyPattern?: string) => bucket[grant](grantee, objectsKeyPattern ?? pattern),
    });
  }
  return scoped;
}

/** The artifact prefixes taken by the pipelines of each namespace, per app. */
const claimedPrefixes = new WeakMap<IConstruct, Map<string, string>>();

/**
 * Refuses a second pipeline of the same namespace and app whose name has the same
 * artifact prefix (its first 20 characters): the stage roles of each could read the
 * other's artifacts. Factory names never collide (`pipelineName`); names given as
 * `pipelineName` may, and pipelines synthesized by other apps cannot be seen here.
 */
function claimArtifactPrefix(scope: Construct, warehouse: IWarehouse, name: string): void {
  const root = scope.node.root;
  const claimed = claimedPrefixes.get(root) ?? new Map<string, string>();
  claimedPrefixes.set(root, claimed);
  const key = `${warehouse.namespace}\0${artifactPrefix(name)}`;
  const other = claimed.get(key);
  if (other !== undefined && other !== name) {
    throw new Error(
      `pipelineName '${name}' starts with the same ${ARTIFACT_PREFIX_LENGTH} characters as the pipeline '${other}' of namespace '${warehouse.namespace}' ('${artifactPrefix(name)}'): ` +
        `CodePipeline keeps artifacts under those characters, so each pipeline's roles could read the other's; give one a name that differs within its first ${ARTIFACT_PREFIX_LENGTH} characters, or leave pipelineName out`,
    );
  }
  if (other === name)
    throw new Error(`two pipelines of namespace '${warehouse.namespace}' are named '${name}': CodePipeline names are unique in an account and region`);
  claimed.set(key, name);
}
