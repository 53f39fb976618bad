import {
  ActionFailedError,
  MAX_CONFIGURATION_VALUE_LENGTH,
  PipelineEngine,
  configurationLimitProblems,
  type ActionDefinition,
  type PipelineDefinition,
} from '../../rehearsal/pipeline-engine';

// The engine holds an action to CodePipeline's limit of a configuration value with its
// variables resolved, and passes the output artifacts an executor reports to later actions.

const action = (
  name: string,
  configuration: Record<string, unknown>,
  io: Partial<Pick<ActionDefinition, 'inputArtifacts' | 'outputArtifacts'>> = {},
): ActionDefinition => ({
  name,
  category: 'Invoke',
  provider: 'Lambda',
  configuration,
  inputArtifacts: io.inputArtifacts ?? [],
  outputArtifacts: io.outputArtifacts ?? [],
  namespace: name,
  runOrder: 1,
});
const pipeline = (actions: ActionDefinition[]): PipelineDefinition => ({
  name: 'a-pipeline-whose-name-is-long',
  arn: 'arn:aws:codepipeline:eu-west-1:111111111111:a-pipeline-whose-name-is-long',
  roleArn: 'arn:aws:iam::111111111111:role/pipeline',
  artifactBucket: 'artifacts',
  executionMode: 'SUPERSEDED',
  stages: actions.map((a) => ({ name: a.name, actions: [a] })),
});

test('GIVEN a value that a variable makes longer than 1,000 characters THEN the action fails before it runs, naming the value and the variable', async () => {
  const ran: string[] = [];
  const engine = new PipelineEngine({
    Lambda: async (ctx) => {
      ran.push(ctx.action.name);
      return ctx.action.name === 'Prepare' ? { variables: { Inputs: 'x'.repeat(MAX_CONFIGURATION_VALUE_LENGTH), BuildId: '0123456789abcdef' } } : {};
    },
  });
  const run = await engine.run(
    pipeline([action('Prepare', {}), action('Manifest', { UserParameters: JSON.stringify({ buildId: '#{Prepare.BuildId}', inputs: '#{Prepare.Inputs}' }) })]),
    'test',
  );
  expect(run.status).toBe('Failed');
  expect(ran).toEqual(['Prepare']);
  expect(run.failure).toMatch(
    /^Manifest\.Manifest: the configuration value UserParameters of action Manifest is \d+ characters once #\{Prepare\.BuildId\}, #\{Prepare\.Inputs\} are resolved; CodePipeline allows 1000$/,
  );
});

test('GIVEN a value of exactly 1,000 characters once resolved THEN it fits, though as written it is longer; one character more does not', () => {
  const resolve = (t: string) => t.replace('#{Prepare.BuildId}', '0123456789abcdef');
  const value = (n: number) => `${'y'.repeat(n)}#{Prepare.BuildId}`;
  expect(value(MAX_CONFIGURATION_VALUE_LENGTH - 16).length).toBeGreaterThan(MAX_CONFIGURATION_VALUE_LENGTH);
  expect(configurationLimitProblems(action('Release', { UserParameters: value(MAX_CONFIGURATION_VALUE_LENGTH - 16) }), resolve)).toEqual([]);
  expect(configurationLimitProblems(action('Release', { UserParameters: value(MAX_CONFIGURATION_VALUE_LENGTH - 15) }), resolve)).toEqual([
    expect.stringMatching(/UserParameters of action Release is 1001 characters once #\{Prepare\.BuildId\} is resolved/),
  ]);
});

test("GIVEN an action that writes an output artifact THEN a later action gets it as input, under CodePipeline's key", async () => {
  const seen: Record<string, string> = {};
  const engine = new PipelineEngine({
    Lambda: async (ctx) => {
      for (const [name, location] of ctx.inputs) seen[name] = location.key;
      return ctx.action.outputArtifacts.length
        ? { outputs: Object.fromEntries(ctx.action.outputArtifacts.map((n) => [n, { bucket: 'artifacts', key: ctx.outputKey(n) }])) }
        : {};
    },
  });
  const run = await engine.run(
    pipeline([action('Prepare', {}, { outputArtifacts: ['InputsRecord'] }), action('Manifest', {}, { inputArtifacts: ['InputsRecord'] })]),
    'test',
  );
  expect(run.status).toBe('Succeeded');
  expect(seen.InputsRecord).toMatch(/^a-pipeline-whose-nam\/InputsReco\/[0-9a-f]{7}$/);
});

test('an executor that throws fails the action with its message', async () => {
  const engine = new PipelineEngine({
    Lambda: async () => {
      throw new ActionFailedError('no');
    },
  });
  expect((await engine.run(pipeline([action('Prepare', {})]), 'test')).failure).toBe('Prepare.Prepare: no');
});
