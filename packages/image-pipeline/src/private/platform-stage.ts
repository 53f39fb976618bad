import type { Duration } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { PROJECT_CONCURRENT_BUILD_LIMIT, PROJECT_QUEUED_TIMEOUT, artifactReaderRole } from '@devcontainer-factory/pipeline-parts';
import { acknowledgeNag, acknowledgeRegistryLogin } from '@devcontainer-factory/warehouse';
import type { PlatformName } from '../image-pipeline-options';
import { ImagePipelinePropsError } from '../image-pipeline-props-error';
import { environmentVariablesProblem } from './configuration-values';
import { computeType, platformHardware, type PlatformHardware } from './platform-hardware';
import { skipWhenReleased } from './skip-when-released';
import type { PrepareOutputs, StageContext } from './stage-context';

export interface PlatformStageProps {
  /** The stage name; also the prefix of each project's id and action name (`BuildAmd64`) and log stream prefix (`build-amd64`). */
  readonly stageName: 'Build' | 'Test';
  /** The role every project of the stage shares, with its ECR grants already given; it gets read of the pipeline's artifacts and the log group here, and nothing from CDK's defaults. */
  readonly role: iam.Role;
  /** The project description of one platform. */
  readonly description: (platform: PlatformName, hw: PlatformHardware) => string;
  /** The buildspec of one platform. */
  readonly buildSpec: (platform: PlatformName) => codebuild.BuildSpec;
  /** Longest run before CodeBuild stops it. */
  readonly timeout: Duration;
  /** Why the projects run privileged, for the cdk-nag acknowledgement. */
  readonly privilegedReason: string;
  /**
   * Variables each action sets besides `BUILD_ID` (values may be `#{Prepare.X}` expressions
   * with a known longest value: the action's `EnvironmentVariables` must fit CodePipeline's
   * 1,000 characters once resolved).
   * @default - none
   */
  readonly variables?: Readonly<Record<string, string>>;
  /**
   * Input artifacts of each action besides the source, which stays the primary source (the
   * buildspec runs in `$CODEBUILD_SRC_DIR`): CodeBuild unpacks each at
   * `$CODEBUILD_SRC_DIR_<artifact name>`. The projects' role reads them with the rest of the
   * pipeline's artifacts.
   * @default - none
   */
  readonly extraInputs?: readonly codepipeline.Artifact[];
}

/**
 * A stage of privileged CodeBuild projects, one per platform on its native
 * hardware, run in parallel under one role; each gets the build id from Prepare,
 * and the stage is skipped when Prepare finds the build id released.
 */
export function platformStage(
  ctx: StageContext,
  prepare: PrepareOutputs,
  props: PlatformStageProps,
): { stage: codepipeline.StageProps; projects: codebuild.PipelineProject[] } {
  const { role, stageName } = props;
  acknowledgeRegistryLogin(role);
  // The projects get a view of the role that takes none of CDK's default grants.
  const projectRole = artifactReaderRole(role, { warehouse: ctx.warehouse, pipelineName: ctx.pipelineName, logGroup: ctx.logGroup });

  const stageActions: actions.CodeBuildAction[] = [];
  const projects = ctx.platforms.map((platform) => {
    const hw = platformHardware(platform);
    const project = new codebuild.PipelineProject(ctx.scope, `${stageName}${hw.label}`, {
      description: props.description(platform, hw),
      role: projectRole,
      environment: { buildImage: hw.buildImage, computeType: computeType(ctx.computeSize), privileged: true },
      buildSpec: props.buildSpec(platform),
      encryptionKey: ctx.warehouse.s3Key,
      logging: { cloudWatch: { logGroup: ctx.logGroup, prefix: `${stageName.toLowerCase()}-${hw.arch}` } },
      timeout: props.timeout,
      queuedTimeout: PROJECT_QUEUED_TIMEOUT,
      concurrentBuildLimit: PROJECT_CONCURRENT_BUILD_LIMIT,
    });
    acknowledgeNag(project, 'CB3', props.privilegedReason);
    const actionName = `${stageName}${hw.label}`;
    const variables = { BUILD_ID: prepare.buildId, ...props.variables };
    const problem = environmentVariablesProblem(actionName, variables);
    if (problem) throw new ImagePipelinePropsError(`${problem}: pass long values as an input artifact`);
    stageActions.push(
      new actions.CodeBuildAction({
        actionName,
        project,
        // The configuration: the buildspec runs in it. With extra inputs, CDK names it the action's PrimarySource.
        input: ctx.source,
        ...(props.extraInputs?.length && { extraInputs: [...props.extraInputs] }),
        runOrder: 1,
        environmentVariables: Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, { value }])),
      }),
    );
    return project;
  });

  return {
    stage: { stageName, beforeEntry: skipWhenReleased(stageName, prepare.released), actions: stageActions },
    projects,
  };
}
