import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';

/**
 * The entry condition of Build, Manifest and Test: enter only when Prepare says
 * the build id is not released yet (`Released == false`); otherwise the stage is
 * SKIPPED, so that an unchanged upload starts no CodeBuild build and goes straight
 * to Release. VariableCheck is one of the two rules CodePipeline allows with SKIP.
 * @param stageName makes the rule name unique in the pipeline
 * @param releasedVariable `#{Prepare.Released}`
 */
export function skipWhenReleased(stageName: string, releasedVariable: string): codepipeline.Conditions {
  return {
    conditions: [
      {
        result: codepipeline.Result.SKIP,
        rules: [
          new codepipeline.Rule({
            name: `${stageName}UnlessReleased`,
            provider: 'VariableCheck',
            version: '1',
            configuration: { Variable: releasedVariable, Operator: 'EQ', Value: 'false' },
          }),
        ],
      },
    ],
  };
}
