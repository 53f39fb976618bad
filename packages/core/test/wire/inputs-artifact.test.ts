import { zipSync, strToU8 } from 'fflate';
import {
  INPUTS_ARTIFACT_FILE,
  InputsArtifactError,
  MAX_BUILD_INPUTS,
  encodeInputRecord,
  inputsArtifactBytes,
  parseInputsArtifact,
  parseInputsFile,
  readZip,
  type InputRecord,
} from '../../src';

// The input record travels from Prepare to Manifest and Build as an output artifact: at the most
// inputs a build may have, it is far beyond the 1,000 characters of an action configuration value.

const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const fullRecord: InputRecord = {
  configuration: digest(0xc0ffee),
  inputs: Array.from({ length: MAX_BUILD_INPUTS }, (_, i) => ({
    kind: i % 3 === 0 ? ('base' as const) : ('feature' as const),
    reference: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/devcontainers/${i % 3 === 0 ? 'images' : 'features'}/input-number-${i}:1.2.3`,
    digest: digest(i + 1),
  })),
};
const where = 's3://artifacts/devcontainers-image-p/Inputs/abc123';
const zipWith = (text: string) => zipSync({ [INPUTS_ARTIFACT_FILE]: strToU8(text) });

test('GIVEN the most inputs a build may have, each with its digest THEN the record reads back as it was written, though its line is far over 1,000 characters', () => {
  const bytes = inputsArtifactBytes(fullRecord);
  const read = parseInputsArtifact(bytes, where);
  expect(read.text.length).toBeGreaterThan(10 * 1000);
  expect(read.record).toEqual(fullRecord);
  // The file holds the record's one encoding, which Manifest puts on the index as it is.
  expect(read.text).toBe(encodeInputRecord(fullRecord).text);
  // One file, readable by anyone who unzips the artifact (CodeBuild does).
  expect([...readZip(bytes).files.keys()]).toEqual([INPUTS_ARTIFACT_FILE]);
});

test('THEN the same record gives the same bytes', () => {
  expect(Buffer.from(inputsArtifactBytes(fullRecord)).equals(Buffer.from(inputsArtifactBytes({ ...fullRecord, inputs: [...fullRecord.inputs] })))).toBe(true);
});

test.each([
  ['not a zip', Buffer.from('configuration@sha256:…'), /is not the input record Prepare writes/],
  ['a zip without inputs.json', zipSync({ 'other.json': strToU8('{}') }), /holds no inputs\.json/],
  ['inputs.json that is not JSON', zipWith('configuration@'), /its inputs\.json: it is not JSON/],
  ['no configuration digest', zipWith(JSON.stringify({ configuration: 'sha256:abc', inputs: [] })), /configuration is not a sha256 digest/],
  [
    'an input of another kind',
    zipWith(JSON.stringify({ configuration: digest(1), inputs: [{ kind: 'tool', reference: 'a/b:1', digest: digest(2) }] })),
    /input 1 is of kind "tool"/,
  ],
  [
    'an input without digest',
    zipWith(JSON.stringify({ configuration: digest(1), inputs: [{ kind: 'base', reference: 'ghcr.io/a/b:1' }] })),
    /input 1 \(ghcr\.io\/a\/b:1\) has no sha256 digest/,
  ],
  [
    'more inputs than a build may have',
    zipWith(
      JSON.stringify({
        configuration: digest(1),
        inputs: Array.from({ length: MAX_BUILD_INPUTS + 1 }, () => ({ kind: 'base', reference: 'ghcr.io/a/b:1', digest: digest(2) })),
      }),
    ),
    /lists 65 inputs/,
  ],
])('GIVEN %s THEN it is refused, naming the artifact', (_what, bytes, message) => {
  expect(() => parseInputsArtifact(bytes, where)).toThrow(InputsArtifactError);
  expect(() => parseInputsArtifact(bytes, where)).toThrow(message);
  expect(() => parseInputsArtifact(bytes, where)).toThrow(where);
});

describe("inputs.json as CodeBuild unpacks it (a Build action's secondary input)", () => {
  // Where CodeBuild unpacks a secondary input ($CODEBUILD_SRC_DIR_Inputs).
  const file = '/codebuild/output/src123/src/s3/01/inputs.json';
  const unpacked = (bytes: Uint8Array) => readZip(bytes).files.get(INPUTS_ARTIFACT_FILE)!;

  test('GIVEN the file of an artifact with the most inputs a build may have THEN it reads back as the record that was written', () => {
    expect(parseInputsFile(unpacked(inputsArtifactBytes(fullRecord)), file).record).toEqual(fullRecord);
  });

  test.each([
    ['the zip itself, not its file', inputsArtifactBytes(fullRecord), /: it is not JSON/],
    ['a list', Buffer.from('[]'), /: it is not a JSON object/],
    [
      'an input whose reference is not one',
      Buffer.from(JSON.stringify({ configuration: digest(1), inputs: [{ kind: 'base', reference: 'Not A Reference', digest: digest(2) }] })),
      /input 1 has no image reference/,
    ],
    [
      'more inputs than a build may have',
      Buffer.from(
        JSON.stringify({
          configuration: digest(1),
          inputs: Array.from({ length: MAX_BUILD_INPUTS + 1 }, () => ({ kind: 'base', reference: 'ghcr.io/a/b:1', digest: digest(2) })),
        }),
      ),
      /lists 65 inputs/,
    ],
    ['over 128 KiB', Buffer.alloc(128 * 1024 + 1, 0x20), /over the limit of 131072 \(MAX_INPUT_RECORD_SIZE\)/],
  ])('GIVEN %s THEN it is refused, naming the file', (_what, bytes, message) => {
    expect(() => parseInputsFile(bytes, file)).toThrow(InputsArtifactError);
    expect(() => parseInputsFile(bytes, file)).toThrow(message);
    expect(() => parseInputsFile(bytes, file)).toThrow(`${file} is not the input record Prepare writes (its inputs.json)`);
  });
});
