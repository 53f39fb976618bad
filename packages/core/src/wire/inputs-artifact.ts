/**
 * The build's input record as Prepare hands it to Manifest and Build: an output artifact
 * of the Prepare action, not an output variable. The record names up to
 * {@link MAX_BUILD_INPUTS} references, each with its digest; resolved into an action's
 * configuration (Manifest's `UserParameters`, a Build action's `EnvironmentVariables`) it
 * would pass CodePipeline's 1,000 characters of a configuration value. The artifact is a
 * zip holding one file, {@link INPUTS_ARTIFACT_FILE}: a Lambda action reads the zip
 * ({@link parseInputsArtifact}); a CodeBuild action takes it as a secondary input, which
 * CodeBuild unzips at `$CODEBUILD_SRC_DIR_<artifact name>`, and reads the file
 * ({@link parseInputsFile}).
 */
import { readZip } from '../archive/read-zip';
import { writeZip } from '../archive/write-zip';
import { FactoryError } from '../factory-error';
import { parseImageReference } from '../oci/image-reference';
import { isDigest } from '../oci/names';
import { MAX_BUILD_INPUTS, type BuildInputKind, type InputRecord, type ResolvedInput } from '../image/build-inputs';

/** The one file of the inputs artifact. */
export const INPUTS_ARTIFACT_FILE = 'inputs.json';
/** Largest inputs artifact read (zip and file): 1 MiB, far above 64 inputs with digests. */
export const MAX_INPUTS_ARTIFACT_SIZE = 1024 * 1024;
/**
 * The variable of the Build buildspec that names its secondary input holding the record
 * (Prepare's output artifact): CodeBuild unzips it at `$CODEBUILD_SRC_DIR_<that name>`, and
 * the SBOM step reads {@link INPUTS_ARTIFACT_FILE} there.
 */
export const INPUTS_ARTIFACT_VARIABLE = 'INPUTS_ARTIFACT';

/** Thrown when an inputs artifact is not one Prepare wrote. */
export class InputsArtifactError extends FactoryError {}

const KINDS: readonly BuildInputKind[] = ['base', 'frontend', 'feature'];

/** The artifact's bytes: a deterministic zip of `inputs.json` (the same record gives the same bytes). */
export function inputsArtifactBytes(record: InputRecord): Uint8Array {
  const json = {
    configuration: record.configuration,
    inputs: record.inputs.map((i) => ({ kind: i.kind, reference: i.reference, digest: i.digest })),
  };
  return writeZip({ files: new Map([[INPUTS_ARTIFACT_FILE, Buffer.from(`${JSON.stringify(json, null, 2)}\n`)]]), executables: new Set() });
}

/**
 * Reads {@link inputsArtifactBytes}' zip back, checked as {@link parseInputsFile} checks
 * its one file.
 * @param where what the bytes are, for messages (e.g. the artifact's S3 location)
 * @throws InputsArtifactError for anything else
 */
export function parseInputsArtifact(bytes: Uint8Array, where: string): InputRecord {
  const fail = (problem: string, cause?: unknown): never => {
    throw new InputsArtifactError(`${where} is not the input record Prepare writes (${INPUTS_ARTIFACT_FILE} in a zip): ${problem}`, { cause });
  };
  if (bytes.length > MAX_INPUTS_ARTIFACT_SIZE) fail(`it is ${bytes.length} bytes, over the limit of ${MAX_INPUTS_ARTIFACT_SIZE}`);
  let file: Uint8Array | undefined;
  try {
    file = readZip(bytes, { maxSize: MAX_INPUTS_ARTIFACT_SIZE, select: (path) => path === INPUTS_ARTIFACT_FILE }).files.get(INPUTS_ARTIFACT_FILE);
  } catch (cause) {
    fail((cause as Error).message, cause);
  }
  if (!file) return fail(`it holds no ${INPUTS_ARTIFACT_FILE}`);
  return checkedRecord(file, fail);
}

/**
 * Reads {@link INPUTS_ARTIFACT_FILE} as CodeBuild unpacks it from the artifact, checked:
 * the configuration's digest, and at most {@link MAX_BUILD_INPUTS} inputs, each a base, frontend or
 * feature with an image reference and a `sha256:` digest.
 * @param where what the bytes are, for messages (e.g. the file's path)
 * @throws InputsArtifactError for anything else
 */
export function parseInputsFile(bytes: Uint8Array, where: string): InputRecord {
  const fail = (problem: string, cause?: unknown): never => {
    throw new InputsArtifactError(`${where} is not the input record Prepare writes (its ${INPUTS_ARTIFACT_FILE}): ${problem}`, { cause });
  };
  if (bytes.length > MAX_INPUTS_ARTIFACT_SIZE) fail(`it is ${bytes.length} bytes, over the limit of ${MAX_INPUTS_ARTIFACT_SIZE}`);
  return checkedRecord(bytes, fail);
}

/** The record in the text of {@link INPUTS_ARTIFACT_FILE}; `fail` says what is wrong with it. */
function checkedRecord(file: Uint8Array, fail: (problem: string, cause?: unknown) => never): InputRecord {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(file).toString('utf8'));
  } catch (cause) {
    fail(`${INPUTS_ARTIFACT_FILE} is not JSON`, cause);
  }
  const record = json as { configuration?: unknown; inputs?: unknown };
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return fail(`${INPUTS_ARTIFACT_FILE} is not a JSON object`);
  if (typeof record.configuration !== 'string' || !isDigest(record.configuration)) fail('its configuration is not a sha256 digest');
  if (!Array.isArray(record.inputs)) return fail('its inputs are not a list');
  if (record.inputs.length > MAX_BUILD_INPUTS) fail(`it lists ${record.inputs.length} inputs; a build has at most ${MAX_BUILD_INPUTS} (MAX_BUILD_INPUTS)`);
  const inputs: ResolvedInput[] = record.inputs.map((entry: unknown, i: number) => {
    const e = entry as { kind?: unknown; reference?: unknown; digest?: unknown };
    if (typeof e !== 'object' || e === null) return fail(`input ${i + 1} is not an object`);
    if (typeof e.kind !== 'string' || !(KINDS as readonly string[]).includes(e.kind))
      return fail(`input ${i + 1} is of kind ${JSON.stringify(e.kind)}, not ${KINDS.join(', ')}`);
    if (typeof e.reference !== 'string' || !parseImageReference(e.reference))
      return fail(`input ${i + 1} has no image reference (${JSON.stringify(e.reference)})`);
    if (typeof e.digest !== 'string' || !isDigest(e.digest)) return fail(`input ${i + 1} (${e.reference}) has no sha256 digest`);
    return { kind: e.kind as BuildInputKind, reference: e.reference, digest: e.digest };
  });
  return { configuration: record.configuration as string, inputs };
}
