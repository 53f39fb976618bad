/**
 * The fields of an ECR JSON API request, read as ECR reads them: a missing required
 * field, a list too short or too long, or a value out of range is an
 * InvalidParameterException in ECR's words; a field of the wrong JSON type is a
 * SerializationException, as the AWS JSON protocol gives it.
 */
import { isDigest } from '@devcontainer-factory/core';
import { EcrApiError, invalidParameter } from './ecr-api-error';

export type Json = Record<string, unknown>;

/** An `ImageIdentifier`: a digest, a tag, or both. */
export interface ImageId {
  imageDigest?: string;
  imageTag?: string;
}

/** A tag as ECR takes it (the OCI distribution spec's grammar). */
export const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function stringField(input: Json, field: string, required: true): string;
export function stringField(input: Json, field: string, required: false): string | undefined;
export function stringField(input: Json, field: string, required: boolean): string | undefined {
  const value = input[field];
  if (value === undefined || value === null) {
    if (required) throw invalidParameter(field, 'Member must not be null');
    return undefined;
  }
  if (typeof value !== 'string') throw new EcrApiError('SerializationException', `'${field}' must be a string`);
  return value;
}

export function listField(input: Json, field: string, required: true, max: number): unknown[];
export function listField(input: Json, field: string, required: false, max: number): unknown[] | undefined;
export function listField(input: Json, field: string, required: boolean, max: number): unknown[] | undefined {
  const value = input[field];
  if (value === undefined || value === null) {
    if (required) throw invalidParameter(field, 'Member must not be null');
    return undefined;
  }
  if (!Array.isArray(value)) throw new EcrApiError('SerializationException', `'${field}' must be a list`);
  if (value.length < 1) throw invalidParameter(field, 'Member must have length greater than or equal to 1');
  if (value.length > max) throw invalidParameter(field, `Member must have length less than or equal to ${max}`);
  return value;
}

/** `registryId`: 12 digits, or `account` when it is not given. */
export function registryIdOf(input: Json, account: string): string {
  const id = stringField(input, 'registryId', false);
  if (id !== undefined && !/^[0-9]{12}$/.test(id)) throw invalidParameter('registryId', "Member must satisfy regular expression pattern: '[0-9]{12}'");
  return id ?? account;
}

/** `maxResults` of a paginated operation: 1 to `max`, `fallback` when it is not given. */
export function maxResultsOf(input: Json, fallback: number, max: number): number {
  const value = input.maxResults;
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new EcrApiError('SerializationException', "'maxResults' must be an integer");
  if (value < 1) throw invalidParameter('maxResults', 'Member must have value greater than or equal to 1');
  if (value > max) throw invalidParameter('maxResults', `Member must have value less than or equal to ${max}`);
  return value;
}

/** A list of image ids (1 to `max`). */
export function imageIdsOf(input: Json, field: string, max: number): ImageId[] {
  return listField(input, field, true, max).map((id) => {
    if (!isObject(id)) throw new EcrApiError('SerializationException', `each of '${field}' must be an object`);
    const out: ImageId = {};
    if (id.imageDigest !== undefined && id.imageDigest !== null) out.imageDigest = String(id.imageDigest);
    if (id.imageTag !== undefined && id.imageTag !== null) out.imageTag = String(id.imageTag);
    return out;
  });
}

/** The failure code and reason of an image id that cannot name an image, or undefined when it can. */
export function imageIdProblem(id: ImageId): { failureCode: string; failureReason: string } | undefined {
  if (id.imageDigest === undefined && id.imageTag === undefined)
    return { failureCode: 'MissingDigestAndTag', failureReason: 'Invalid request parameters: both tag and digest cannot be null' };
  if (id.imageDigest !== undefined && !isDigest(id.imageDigest))
    return { failureCode: 'InvalidImageDigest', failureReason: 'Invalid request parameters: image digest should satisfy the regex' };
  if (id.imageTag !== undefined && !TAG.test(id.imageTag))
    return { failureCode: 'InvalidImageTag', failureReason: 'Invalid request parameters: image tag should satisfy the regex' };
  return undefined;
}

/** `filter.tagStatus`: TAGGED, UNTAGGED or ANY (the default). */
export function tagStatusOf(input: Json): 'TAGGED' | 'UNTAGGED' | 'ANY' {
  const filter = input.filter;
  if (filter === undefined || filter === null) return 'ANY';
  if (!isObject(filter)) throw new EcrApiError('SerializationException', "'filter' must be an object");
  const status = filter.tagStatus ?? 'ANY';
  if (status !== 'TAGGED' && status !== 'UNTAGGED' && status !== 'ANY')
    throw invalidParameter('filter.tagStatus', 'Member must satisfy enum value set: [TAGGED, UNTAGGED, ANY]');
  return status;
}
