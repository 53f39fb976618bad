import {
  InvalidNameError,
  MAX_ID_LENGTH,
  archTag,
  featureCollectionRepositoryName,
  idProblem,
  namespaceProblem,
  parameterNames,
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
    expect(archTag('0f3a9c', 'arm64')).toBe('0f3a9c-arm64');
  });

  test('GIVEN two namespaces WHEN SSM parameter names are derived THEN they do not collide', () => {
    const a = Object.values(parameterNames('team-a'));
    const b = Object.values(parameterNames('team-b'));
    expect(a.every((name) => name.startsWith('/team-a/factory/'))).toBe(true);
    expect(a.filter((name) => b.includes(name))).toEqual([]);
    expect(new Set(a).size).toBe(a.length);
  });
});
