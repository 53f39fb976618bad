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
import { InputRecordError, MAX_INPUT_RECORD_SIZE, decodeInputRecord, encodeInputRecord, type EncodedInputRecord } from '../image/input-record';
import type { InputRecord } from '../image/build-inputs';

/** The one file of the inputs artifact. */
export const INPUTS_ARTIFACT_FILE = 'inputs.json';
/** Largest inputs artifact read (the zip): 1 MiB; its one file is at most {@link MAX_INPUT_RECORD_SIZE}. */
export const MAX_INPUTS_ARTIFACT_SIZE = 1024 * 1024;
/**
 * The variable of the Build buildspec that names its secondary input holding the record
 * (Prepare's output artifact): CodeBuild unzips it at `$CODEBUILD_SRC_DIR_<that name>`, and
 * the SBOM step reads {@link INPUTS_ARTIFACT_FILE} there.
 */
export const INPUTS_ARTIFACT_VARIABLE = 'INPUTS_ARTIFACT';

/** Thrown when an inputs artifact is not one Prepare wrote. */
export class InputsArtifactError extends InputRecordError {}

/**
 * The artifact's bytes: a deterministic zip (the same record gives the same bytes) of
 * {@link INPUTS_ARTIFACT_FILE}, whose text is the record's one encoding
 * ({@link encodeInputRecord}).
 */
export function inputsArtifactBytes(record: InputRecord): Uint8Array {
  return writeZip({ files: new Map([[INPUTS_ARTIFACT_FILE, Buffer.from(encodeInputRecord(record).text)]]), executables: new Set() });
}

/**
 * Reads {@link inputsArtifactBytes}' zip back, checked as {@link parseInputsFile} checks
 * its one file. The text comes back as it was written, for Manifest to put on the index.
 * @param where what the bytes are, for messages (e.g. the artifact's S3 location)
 * @throws InputsArtifactError for anything else
 */
export function parseInputsArtifact(bytes: Uint8Array, where: string): EncodedInputRecord {
  const problem = `${where} is not the input record Prepare writes (${INPUTS_ARTIFACT_FILE} in a zip)`;
  if (bytes.length > MAX_INPUTS_ARTIFACT_SIZE)
    throw new InputsArtifactError(`${problem}: it is ${bytes.length} bytes, over the limit of ${MAX_INPUTS_ARTIFACT_SIZE}`);
  let file: Uint8Array | undefined;
  try {
    file = readZip(bytes, { maxSize: MAX_INPUTS_ARTIFACT_SIZE, select: (path) => path === INPUTS_ARTIFACT_FILE }).files.get(INPUTS_ARTIFACT_FILE);
  } catch (cause) {
    throw new InputsArtifactError(`${problem}: ${(cause as Error).message}`, { cause });
  }
  if (!file) throw new InputsArtifactError(`${problem}: it holds no ${INPUTS_ARTIFACT_FILE}`);
  return decoded(file, `${problem}, its ${INPUTS_ARTIFACT_FILE}`);
}

/**
 * Reads {@link INPUTS_ARTIFACT_FILE} as CodeBuild unpacks it from the artifact, checked
 * by {@link decodeInputRecord}.
 * @param where what the bytes are, for messages (e.g. the file's path)
 * @throws InputsArtifactError for anything else
 */
export function parseInputsFile(bytes: Uint8Array, where: string): EncodedInputRecord {
  return decoded(bytes, `${where} is not the input record Prepare writes (its ${INPUTS_ARTIFACT_FILE})`);
}

function decoded(file: Uint8Array, where: string): EncodedInputRecord {
  if (file.length > MAX_INPUT_RECORD_SIZE)
    throw new InputsArtifactError(`${where}: it is ${file.length} bytes, over the limit of ${MAX_INPUT_RECORD_SIZE} (MAX_INPUT_RECORD_SIZE)`);
  try {
    return decodeInputRecord(Buffer.from(file).toString('utf8'), where);
  } catch (cause) {
    if (cause instanceof InputRecordError) throw new InputsArtifactError(cause.message, { cause });
    throw cause;
  }
}
