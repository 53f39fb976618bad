/**
 * The build's input record on the wire: one encoding, one decoder. Prepare encodes the
 * record once ({@link encodeInputRecord}); that text is the file of its output artifact,
 * Manifest checks it and puts the same text on the image index as
 * {@link INPUTS_ANNOTATION}, and every reader (the Build tool's SBOM step, the refresh
 * check, the version guard, `dcf`) decodes it with {@link decodeInputRecord}. The text is
 * JSON on one line: `{"configuration":"sha256:…","inputs":[{"kind":"base","reference":"…","digest":"sha256:…"}]}`.
 * Fields a reader does not know are ignored, so a newer Prepare's record passes an older
 * Manifest unchanged.
 */
import { FactoryError } from '../factory-error';
import { parseImageReference } from '../oci/image-reference';
import { isDigest } from '../oci/names';
import { MAX_BUILD_INPUTS, type BuildInputKind, type InputRecord, type ResolvedInput } from './build-inputs';

/** The index annotation that holds a build's input record, as {@link encodeInputRecord} wrote it. */
export const INPUTS_ANNOTATION = 'dev.devcontainer-factory.inputs';
/**
 * Longest record text read or written: 128 KiB. The largest record a build can have
 * ({@link MAX_BUILD_INPUTS} inputs, each a reference of the longest 1,024 characters the
 * reference parser takes) encodes to about 75 KB.
 */
export const MAX_INPUT_RECORD_SIZE = 128 * 1024;

/** Thrown when a text is not an input record Prepare could have written. */
export class InputRecordError extends FactoryError {}

/** A record and its one encoding: what Prepare wrote and Manifest puts on the index unchanged. */
export interface EncodedInputRecord {
  readonly record: InputRecord;
  /** The text as written, or as read: {@link INPUTS_ANNOTATION}'s value. */
  readonly text: string;
}

const KINDS: readonly BuildInputKind[] = ['base', 'frontend', 'feature'];

/**
 * The record's text, the same for the same record (fields in one order, no spaces).
 * @throws InputRecordError when the record is not one a build can have (see {@link decodeInputRecord})
 */
export function encodeInputRecord(record: InputRecord): EncodedInputRecord {
  const text = JSON.stringify({
    configuration: record.configuration,
    inputs: record.inputs.map((i) => ({ kind: i.kind, reference: i.reference, digest: i.digest })),
  });
  // The same checks as a reader's: what Prepare writes, Manifest and Build accept.
  return decodeInputRecord(text, 'the input record to write');
}

/**
 * Reads {@link encodeInputRecord}'s text, checked: at most {@link MAX_INPUT_RECORD_SIZE}
 * characters, the configuration's `sha256:` digest, and at most {@link MAX_BUILD_INPUTS}
 * inputs, each a base, frontend or feature with an image reference and a `sha256:` digest.
 * @param where what the text is, for messages (e.g. the artifact's S3 location)
 * @throws InputRecordError naming `where` and what is wrong
 */
export function decodeInputRecord(text: string, where: string): EncodedInputRecord {
  const fail = (problem: string, cause?: unknown): never => {
    throw new InputRecordError(`${where}: ${problem}`, { cause });
  };
  if (text.length > MAX_INPUT_RECORD_SIZE) fail(`it is ${text.length} characters, over the limit of ${MAX_INPUT_RECORD_SIZE} (MAX_INPUT_RECORD_SIZE)`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    fail('it is not JSON', cause);
  }
  const body = json as { configuration?: unknown; inputs?: unknown };
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return fail('it is not a JSON object');
  if (typeof body.configuration !== 'string' || !isDigest(body.configuration)) fail('its configuration is not a sha256 digest');
  if (!Array.isArray(body.inputs)) return fail('its inputs are not a list');
  if (body.inputs.length > MAX_BUILD_INPUTS) fail(`it lists ${body.inputs.length} inputs; a build has at most ${MAX_BUILD_INPUTS} (MAX_BUILD_INPUTS)`);
  const inputs: ResolvedInput[] = body.inputs.map((entry: unknown, i: number) => {
    const e = entry as { kind?: unknown; reference?: unknown; digest?: unknown };
    if (typeof e !== 'object' || e === null || Array.isArray(e)) return fail(`input ${i + 1} is not an object`);
    if (typeof e.kind !== 'string' || !(KINDS as readonly string[]).includes(e.kind))
      return fail(`input ${i + 1} is of kind ${JSON.stringify(e.kind)}, not ${KINDS.join(', ')}`);
    if (typeof e.reference !== 'string' || !parseImageReference(e.reference))
      return fail(`input ${i + 1} has no image reference (${JSON.stringify(e.reference)})`);
    if (typeof e.digest !== 'string' || !isDigest(e.digest)) return fail(`input ${i + 1} (${e.reference}) has no sha256 digest`);
    return { kind: e.kind as BuildInputKind, reference: e.reference, digest: e.digest };
  });
  return { record: { configuration: body.configuration as string, inputs }, text };
}

/**
 * The input record an image index carries ({@link INPUTS_ANNOTATION}); undefined when it
 * carries none (an index built before the factory recorded inputs).
 * @param where the index, for messages (e.g. `<host>/<repository>@sha256:…`)
 * @throws InputRecordError when the index is not JSON, or its annotation is not a record: a check that cannot read it must not guess
 */
export function indexInputRecord(body: Buffer, where: string): InputRecord | undefined {
  let annotations: Record<string, unknown> | undefined;
  try {
    annotations = (JSON.parse(body.toString('utf8')) as { annotations?: Record<string, unknown> }).annotations;
  } catch (cause) {
    throw new InputRecordError(`${where} is not an image index (not JSON), so its input record cannot be read`, { cause });
  }
  const text = annotations?.[INPUTS_ANNOTATION];
  if (text === undefined) return undefined;
  if (typeof text !== 'string') throw new InputRecordError(`the ${INPUTS_ANNOTATION} annotation of ${where} is not a string`);
  return decodeInputRecord(text, `the ${INPUTS_ANNOTATION} annotation of ${where} is not an input record`).record;
}
