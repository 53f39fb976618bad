import {
  INPUTS_ANNOTATION,
  InputRecordError,
  MAX_INPUT_RECORD_SIZE,
  decodeInputRecord,
  encodeInputRecord,
  indexInputRecord,
} from '../../src/image/input-record';
import { MAX_BUILD_INPUTS, type InputRecord } from '../../src/image/build-inputs';

// The record has one encoding: Prepare writes it, Manifest puts that text on the index, and every reader decodes it.

const D = (c: string) => `sha256:${c.repeat(64)}`;
const record: InputRecord = {
  configuration: D('c'),
  inputs: [
    { kind: 'base', reference: 'localhost:5000/acme/images/base:latest', digest: D('1') },
    { kind: 'frontend', reference: 'docker.io/docker/dockerfile:1', digest: D('2') },
    { kind: 'feature', reference: 'ghcr.io/devcontainers/features/node:1', digest: D('3') },
  ],
};
const indexWith = (annotations?: Record<string, unknown>) => Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [], annotations }));

test('GIVEN a record THEN its text is one line of JSON that decodes to the same record, and the same record gives the same text', () => {
  const { text } = encodeInputRecord(record);
  expect(text).not.toContain('\n');
  expect(JSON.parse(text)).toEqual(record);
  expect(decodeInputRecord(text, 'it')).toEqual({ record, text });
  expect(encodeInputRecord({ ...record, inputs: [...record.inputs] }).text).toBe(text);
});

test('GIVEN the largest record a build can have (64 inputs, each reference of 1,024 characters) THEN it fits the limit', () => {
  const reference = (i: number) => `ghcr.io/${'a'.repeat(1024 - 'ghcr.io/'.length - 6)}:${String(i).padStart(5, '0')}`;
  const largest: InputRecord = {
    configuration: D('c'),
    inputs: Array.from({ length: MAX_BUILD_INPUTS }, (_, i) => ({ kind: 'feature' as const, reference: reference(i), digest: D('f') })),
  };
  expect(reference(1)).toHaveLength(1024);
  const { text } = encodeInputRecord(largest);
  expect(text.length).toBeGreaterThan(64 * 1024);
  expect(text.length).toBeLessThan(MAX_INPUT_RECORD_SIZE);
  expect(decodeInputRecord(text, 'it').record).toEqual(largest);
});

test('GIVEN a text a newer Prepare wrote, with fields this one does not know THEN it decodes and keeps the text as it was', () => {
  const text = JSON.stringify({ configuration: D('c'), inputs: [{ ...record.inputs[0], platform: 'linux/amd64' }], resolvedAt: '2026-12-04' });
  const decoded = decodeInputRecord(text, 'it');
  expect(decoded.text).toBe(text);
  expect(decoded.record).toEqual({ configuration: D('c'), inputs: [record.inputs[0]] });
});

test.each([
  ['the one-line form of earlier versions', `configuration@${D('c')} base:a/b:1@${D('1')}`, /it is not JSON/],
  ['null', 'null', /it is not a JSON object/],
  ['a list', '[]', /it is not a JSON object/],
  ['a string', '"sha256:abc"', /it is not a JSON object/],
  ['an input that is null', JSON.stringify({ configuration: D('c'), inputs: [null] }), /input 1 is not an object/],
  ['a second input that is a number', JSON.stringify({ configuration: D('c'), inputs: [record.inputs[0], 7] }), /input 2 is not an object/],
  [
    'an input whose kind is not a string',
    JSON.stringify({ configuration: D('c'), inputs: [{ ...record.inputs[0], kind: 1 }] }),
    /input 1 is of kind 1, not base, frontend, feature/,
  ],
  [
    'an input without reference',
    JSON.stringify({ configuration: D('c'), inputs: [{ kind: 'base', digest: D('1') }] }),
    /input 1 has no image reference \(undefined\)/,
  ],
  [
    'an input whose reference is a number',
    JSON.stringify({ configuration: D('c'), inputs: [{ ...record.inputs[0], reference: 5 }] }),
    /input 1 has no image reference \(5\)/,
  ],
  [
    'an input whose digest is a number',
    JSON.stringify({ configuration: D('c'), inputs: [{ ...record.inputs[0], digest: 5 }] }),
    /input 1 \(localhost:5000\/acme\/images\/base:latest\) has no sha256 digest/,
  ],
  ['a configuration that is a number', JSON.stringify({ configuration: 5, inputs: [] }), /configuration is not a sha256 digest/],
  ['a configuration that is not a digest', JSON.stringify({ configuration: 'sha256:abc', inputs: [] }), /configuration is not a sha256 digest/],
  ['inputs that are not a list', JSON.stringify({ configuration: D('c'), inputs: {} }), /inputs are not a list/],
  ['an input that is a list', JSON.stringify({ configuration: D('c'), inputs: [[]] }), /input 1 is not an object/],
  ['an input of another kind', JSON.stringify({ configuration: D('c'), inputs: [{ ...record.inputs[0], kind: 'tool' }] }), /input 1 is of kind "tool"/],
  [
    'an input whose digest is a tag',
    JSON.stringify({ configuration: D('c'), inputs: [{ ...record.inputs[0], digest: 'latest' }] }),
    /input 1 .* has no sha256 digest/,
  ],
  ['too long a text', ' '.repeat(MAX_INPUT_RECORD_SIZE + 1), /it is 131073 characters, over the limit of 131072 \(MAX_INPUT_RECORD_SIZE\)/],
])('GIVEN %s THEN decoding refuses, naming where it was and what is wrong', (_what, text, message) => {
  expect(() => decodeInputRecord(text, 'the artifact of build abc')).toThrow(InputRecordError);
  expect(() => decodeInputRecord(text, 'the artifact of build abc')).toThrow(message);
  expect(() => decodeInputRecord(text, 'the artifact of build abc')).toThrow(/^the artifact of build abc: /);
});

test('GIVEN a text of exactly the limit THEN it is judged by its content, not refused for its length', () => {
  const text = JSON.stringify({ configuration: D('c'), inputs: [] });
  const padded = text + ' '.repeat(MAX_INPUT_RECORD_SIZE - text.length);
  expect(padded).toHaveLength(MAX_INPUT_RECORD_SIZE);
  expect(decodeInputRecord(padded, 'it').record).toEqual({ configuration: D('c'), inputs: [] });
});

test('GIVEN text that is not JSON THEN the parse error is kept as the cause', () => {
  let error: unknown;
  try {
    decodeInputRecord('{', 'it');
  } catch (e) {
    error = e;
  }
  expect((error as Error).cause).toBeInstanceOf(SyntaxError);
});

test('GIVEN a record whose inputs are over the limit THEN encoding refuses: Prepare writes nothing Manifest would refuse', () => {
  const many = { configuration: D('c'), inputs: Array.from({ length: MAX_BUILD_INPUTS + 1 }, () => record.inputs[0]) };
  expect(() => encodeInputRecord(many)).toThrow(/^the input record to write: it lists 65 inputs; a build has at most 64/);
});

describe('indexInputRecord', () => {
  test('GIVEN an index with the annotation THEN its record', () => {
    expect(indexInputRecord(indexWith({ [INPUTS_ANNOTATION]: encodeInputRecord(record).text }), 'the index')).toEqual(record);
  });

  test('GIVEN an index without the annotation THEN none: it was built before the factory recorded inputs', () => {
    expect(indexInputRecord(indexWith(), 'the index')).toBeUndefined();
    expect(indexInputRecord(indexWith({ other: 'x' }), 'the index')).toBeUndefined();
  });

  test.each([
    ['an annotation that is not a record', indexWith({ [INPUTS_ANNOTATION]: 'garbage' }), /annotation of r@sha256:1+ is not an input record: it is not JSON/],
    ['an annotation that is not a string', indexWith({ [INPUTS_ANNOTATION]: 7 }), /annotation of r@sha256:1+ is not a string/],
    ['an index that is not JSON', Buffer.from('{'), /r@sha256:1+ is not an image index/],
  ])('GIVEN %s THEN it refuses, naming the index: a check that cannot read the record must not guess', (_what, body, message) => {
    expect(() => indexInputRecord(body, `r@${D('1')}`)).toThrow(InputRecordError);
    expect(() => indexInputRecord(body, `r@${D('1')}`)).toThrow(message);
  });

  test('GIVEN an index that is not JSON THEN the parse error is kept as the cause', () => {
    let error: unknown;
    try {
      indexInputRecord(Buffer.from('{'), 'the index');
    } catch (e) {
      error = e;
    }
    expect((error as Error).cause).toBeInstanceOf(SyntaxError);
  });
});
