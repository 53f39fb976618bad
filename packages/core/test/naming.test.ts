import {
  ARTIFACT_PREFIX_LENGTH,
  InvalidNameError,
  MAX_ID_LENGTH,
  MAX_NAMESPACE_LENGTH,
  MAX_PIPELINE_NAME_LENGTH,
  artifactPrefix,
  featureCollectionRepositoryName,
  idProblem,
  namespaceProblem,
  parameterNames,
  parsePipelineName,
  pipelineArnPatterns,
  pipelineName,
  pipelineNameProblem,
  pipelineStackName,
  repositoryName,
  sourceKey,
  stackNames,
  validateId,
  validateNamespace,
} from '../src/naming';

describe('ids', () => {
  test.each(['python', 'node-20', '0day', 'a'])('GIVEN %j WHEN validated THEN it is accepted', (id) => {
    expect(validateId(id)).toBe(id);
  });

  test.each([
    ['', /id must not be empty/],
    ['Python', /image id 'Python' is invalid: .* \(try 'python'\)/],
    ['my_image', /image id 'my_image' is invalid: .* \(try 'my-image'\)/],
    ['-python', /is invalid: use lowercase letters, digits and '-', starting with a letter or digit/],
    ['py.thon', /is invalid/],
    ['a'.repeat(MAX_ID_LENGTH + 1), /is 64 characters long; the limit is 63/],
  ])('GIVEN %j WHEN validated THEN InvalidNameError says what to fix', (id, message) => {
    expect(() => validateId(id, 'image id')).toThrow(InvalidNameError);
    expect(idProblem(id, 'image id')).toMatch(message);
  });
});

describe('namespaces', () => {
  test('GIVEN the default namespace WHEN validated THEN it is accepted', () => {
    expect(validateNamespace('devcontainers')).toBe('devcontainers');
  });

  test.each([
    ['', /must not be empty/],
    ['1team', /is invalid/],
    ['team-', /not ending with '-'/],
    ['Team', /is invalid/],
    ['a'.repeat(33), /the limit is 32/],
  ])('GIVEN %j WHEN validated THEN it is refused with a reason', (ns, message) => {
    expect(() => validateNamespace(ns)).toThrow(InvalidNameError);
    expect(namespaceProblem(ns)).toMatch(message);
  });
});

describe('names derived from a namespace and id', () => {
  test('GIVEN namespace devcontainers WHEN names are derived THEN they follow DESIGN.md', () => {
    expect(sourceKey('devcontainers', 'image', 'python')).toBe('devcontainers/images/python.zip');
    expect(sourceKey('devcontainers', 'feature', 'hello')).toBe('devcontainers/features/hello.zip');
    expect(repositoryName('devcontainers', 'image', 'python')).toBe('devcontainers/images/python');
    expect(repositoryName('devcontainers', 'feature', 'hello')).toBe('devcontainers/features/hello');
    expect(featureCollectionRepositoryName('devcontainers')).toBe('devcontainers/features');
    expect(stackNames('devcontainers').warehouse).toBe('devcontainers-warehouse');
    expect(stackNames('devcontainers').image('python')).toBe('devcontainers-image-python');
    expect(stackNames('devcontainers').feature('hello')).toBe('devcontainers-feature-hello');
  });

  test('GIVEN two namespaces WHEN SSM parameter names are derived THEN they do not collide', () => {
    const a = Object.values(parameterNames('team-a'));
    const b = Object.values(parameterNames('team-b'));
    expect(a.every((name) => name.startsWith('/team-a/factory/'))).toBe(true);
    expect(a.filter((name) => b.includes(name))).toEqual([]);
    expect(new Set(a).size).toBe(a.length);
  });

  test('GIVEN pipelines of any namespaces and ids WHEN named THEN the first 20 characters, their artifact prefix, differ', () => {
    const long = 'a'.repeat(MAX_NAMESPACE_LENGTH);
    const names = [
      pipelineName('devcontainers', 'image', 'python'),
      pipelineName('devcontainers', 'image', 'node'),
      pipelineName('devcontainers', 'feature', 'python'),
      pipelineName(long, 'image', 'python'),
      pipelineName(long, 'feature', 'python'),
      pipelineName(`${long.slice(1)}b`, 'image', 'python'),
    ];
    expect(names[0]).toMatch(/^dcf-[0-9a-f]{12}-devcontainers-image-python$/);
    expect(names[0]).toBe(pipelineName('devcontainers', 'image', 'python'));
    const prefixes = names.map(artifactPrefix);
    expect(prefixes.every((p) => p.length === ARTIFACT_PREFIX_LENGTH)).toBe(true);
    expect(new Set(prefixes).size).toBe(names.length);
    // The stack keeps the readable name.
    expect(pipelineStackName('devcontainers', 'image', 'python')).toBe('devcontainers-image-python');
  });

  test('GIVEN an id too long for a pipeline name WHEN named THEN the problem says how long the id may be', () => {
    const ns = 'a'.repeat(MAX_NAMESPACE_LENGTH);
    const id = 'b'.repeat(MAX_ID_LENGTH);
    const problem = pipelineNameProblem(ns, 'feature', id);
    expect(problem).toContain(`CodePipeline allows ${MAX_PIPELINE_NAME_LENGTH}`);
    const allowed = Number(/at most (\d+) characters/.exec(problem ?? '')?.[1]);
    expect(pipelineNameProblem(ns, 'feature', id.slice(0, allowed))).toBeUndefined();
    expect(pipelineNameProblem(ns, 'feature', id.slice(0, allowed + 1))).toBeDefined();
    expect(() => pipelineName(ns, 'feature', id)).toThrow(InvalidNameError);
  });

  test("GIVEN pipeline names WHEN parsed for a namespace THEN only that namespace's factory pipelines with a matching hash are read", () => {
    expect(parsePipelineName('devcontainers', pipelineName('devcontainers', 'image', 'python'))).toEqual({ kind: 'image', id: 'python' });
    expect(parsePipelineName('devcontainers', pipelineName('devcontainers', 'feature', 'hello'))).toEqual({ kind: 'feature', id: 'hello' });
    // A namespace that starts like another is told apart by the hash.
    expect(parsePipelineName('devcontainers', pipelineName('devcontainers-image', 'image', 'python'))).toBeUndefined();
    expect(parsePipelineName('devcontainers-image', pipelineName('devcontainers-image', 'image', 'python'))).toEqual({ kind: 'image', id: 'python' });
    expect(parsePipelineName('devcontainers', 'devcontainers-image-python')).toBeUndefined();
    expect(parsePipelineName('devcontainers', 'dcf-000000000000-devcontainers-image-python')).toBeUndefined();
    expect(parsePipelineName('other', pipelineName('devcontainers', 'image', 'python'))).toBeUndefined();
  });

  test('GIVEN a namespace WHEN its pipeline ARN patterns are made THEN they match its pipelines and not those of a namespace that merely starts like it', () => {
    const matches = (pattern: string, name: string) => new RegExp(`^${pattern.replace(/\?/g, '.').replace(/\*/g, '.*')}$`).test(name);
    const patterns = pipelineArnPatterns('team');
    expect(patterns).toEqual(['dcf-????????????-team-image-*', 'dcf-????????????-team-feature-*']);
    const ours = [pipelineName('team', 'image', 'python'), pipelineName('team', 'feature', 'hello')];
    for (const name of ours) expect(patterns.some((p) => matches(p, name))).toBe(true);
    for (const name of [pipelineName('team-b', 'image', 'python'), pipelineName('teams', 'feature', 'hello'), 'team-image-python'])
      expect(patterns.some((p) => matches(p, name))).toBe(false);
  });
});
