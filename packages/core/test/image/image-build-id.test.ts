import { createHash } from 'node:crypto';
import { imageBuildId } from '../../src/image/image-build-id';
import { BUILD_ID_LENGTH } from '../../src/image/release-tags';

// The build id is what "already released" means: it must change when any byte of the upload,
// any dependsOn base or any input's digest changes, and only then.

const ZIP = Buffer.from('PK\u0003\u0004 the configuration zip');
const D = (c: string) => `sha256:${c.repeat(64)}`;
const BASES = [
  { repository: 'devcontainers/images/base', digest: D('1') },
  { repository: 'devcontainers/images/tools', digest: D('2') },
];
const INPUTS = [
  { kind: 'base', reference: 'localhost:5000/devcontainers/images/base:latest', digest: D('3') },
  { kind: 'frontend', reference: 'docker.io/docker/dockerfile:1', digest: D('4') },
  { kind: 'feature', reference: 'ghcr.io/devcontainers/features/node:1', digest: D('5') },
];
const ID = imageBuildId(ZIP, BASES, INPUTS);

test('GIVEN the same upload on the same inputs THEN the same id of 16 hex digits, whatever order the bases and inputs come in', () => {
  expect(ID).toMatch(new RegExp(`^[0-9a-f]{${BUILD_ID_LENGTH}}$`));
  expect(BUILD_ID_LENGTH).toBe(16);
  expect(imageBuildId(Buffer.from(ZIP), [...BASES].reverse(), [...INPUTS].reverse())).toBe(ID);
});

test('GIVEN three dependsOn bases in every order THEN one id: they are sorted by repository before they are hashed', () => {
  const three = [...BASES, { repository: 'devcontainers/images/go', digest: D('7') }];
  const orders = [
    [0, 1, 2],
    [0, 2, 1],
    [1, 0, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
  ].map((order) =>
    imageBuildId(
      ZIP,
      order.map((i) => three[i]),
      INPUTS,
    ),
  );
  expect(new Set(orders).size).toBe(1);
  // Sorted, not kept in the order given: the id is that of the sorted list hashed as it is.
  const sorted = [...three].sort((a, b) => a.repository.localeCompare(b.repository));
  const hash = createHash('sha256').update(ZIP);
  for (const b of sorted) hash.update(`\n${b.repository}@${b.digest}`);
  for (const line of INPUTS.map((i) => `${i.kind} ${i.reference}@${i.digest}`).sort()) hash.update(`\n${line}`);
  expect(orders[0]).toBe(hash.digest('hex').slice(0, 16));
});

test('GIVEN no bases and no inputs THEN the id is the first 16 hex digits of the sha256 of the zip', () => {
  expect(imageBuildId(ZIP)).toBe(createHash('sha256').update(ZIP).digest('hex').slice(0, 16));
});

test('GIVEN one byte of the zip changed THEN another id', () => {
  const changed = Buffer.from(ZIP);
  changed[changed.length - 1] ^= 1;
  expect(imageBuildId(changed, BASES, INPUTS)).not.toBe(ID);
});

test.each(BASES.map((_, i) => [BASES[i].repository, i]))('GIVEN the dependsOn base %s moved THEN another id', (_name, i) => {
  const moved = BASES.map((b, j) => (j === i ? { ...b, digest: D('9') } : b));
  expect(imageBuildId(ZIP, moved, INPUTS)).not.toBe(ID);
});

test.each(INPUTS.map((input, i) => [`${input.kind} ${input.reference}`, i]))('GIVEN the input %s moved THEN another id', (_name, i) => {
  const moved = INPUTS.map((input, j) => (j === i ? { ...input, digest: D('9') } : input));
  expect(imageBuildId(ZIP, BASES, moved)).not.toBe(ID);
});

test.each([
  ['an input dropped', BASES, INPUTS.slice(1)],
  ['an input added', BASES, [...INPUTS, { kind: 'feature', reference: 'ghcr.io/devcontainers/features/go:1', digest: D('6') }]],
  ['a base dropped', BASES.slice(1), INPUTS],
  ['an input of another kind', BASES, INPUTS.map((input, j) => (j === 0 ? { ...input, kind: 'feature' } : input))],
  [
    'an input under another reference at the same digest',
    BASES,
    INPUTS.map((input, j) => (j === 2 ? { ...input, reference: 'ghcr.io/devcontainers/features/node:2' } : input)),
  ],
])('GIVEN %s THEN another id', (_what, bases, inputs) => {
  expect(imageBuildId(ZIP, bases, inputs)).not.toBe(ID);
});
