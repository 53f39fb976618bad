/**
 * The errors of the ECR front, in the two shapes ECR gives them: the JSON API's
 * (`{"__type": "RepositoryNotFoundException", "message": …}`, HTTP 400) and the OCI
 * endpoint's (`{"errors": [{"code": "NAME_UNKNOWN", "message": …}]}` with its status).
 */
import { FactoryError } from '@devcontainer-factory/core';

/** The distribution error of an ECR error on the OCI endpoint. */
export interface OciErrorCode {
  readonly status: number;
  readonly code: string;
}

/** What the OCI endpoint answers for the ECR error types it can meet; anything else is a 500. */
const OCI_CODES: Readonly<Record<string, OciErrorCode>> = {
  AccessDeniedException: { status: 403, code: 'DENIED' },
  RepositoryNotFoundException: { status: 404, code: 'NAME_UNKNOWN' },
  ImageNotFoundException: { status: 404, code: 'MANIFEST_UNKNOWN' },
  ImageTagAlreadyExistsException: { status: 400, code: 'TAG_INVALID' },
  LayersNotFoundException: { status: 400, code: 'MANIFEST_BLOB_UNKNOWN' },
  ReferencedImagesNotFoundException: { status: 400, code: 'MANIFEST_BLOB_UNKNOWN' },
  ImageDigestDoesNotMatchException: { status: 400, code: 'DIGEST_INVALID' },
  InvalidParameterException: { status: 400, code: 'MANIFEST_INVALID' },
  ImageReferencedByManifestList: { status: 409, code: 'DENIED' },
  ServerException: { status: 500, code: 'UNKNOWN' },
};

/**
 * An error ECR answers with: `type` is its `__type` (e.g. `RepositoryNotFoundException`),
 * `status` its HTTP status on the JSON API (400, or 500 for `ServerException`).
 */
export class EcrApiError extends FactoryError {
  readonly type: string;
  readonly status: number;
  constructor(type: string, message: string, options?: { status?: number; cause?: unknown }) {
    super(message, options);
    this.type = type;
    this.status = options?.status ?? (type === 'ServerException' ? 500 : 400);
  }

  /** The JSON API answer: `{"__type", "message"}`. */
  toApiBody(): string {
    return JSON.stringify({ __type: this.type, message: this.message });
  }

  /** The status and code of the same error on the OCI endpoint. */
  toOci(): OciErrorCode {
    return OCI_CODES[this.type] ?? { status: this.status >= 500 ? 500 : 400, code: 'UNKNOWN' };
  }
}

/** ECR's wording for a request field that breaks a constraint. */
export function invalidParameter(field: string, constraint: string): EcrApiError {
  return new EcrApiError('InvalidParameterException', `Invalid parameter at '${field}' failed to satisfy constraint: '${constraint}'`);
}

export function repositoryNotFound(repository: string, registryId: string): EcrApiError {
  return new EcrApiError('RepositoryNotFoundException', `The repository with name '${repository}' does not exist in the registry with id '${registryId}'`);
}

/** How ECR quotes an image id in its messages: `{imageDigest:'…', imageTag:'…'}`. */
export function quoteImageId(id: { imageDigest?: string; imageTag?: string }): string {
  return `{imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'}`;
}

export function imageNotFound(id: { imageDigest?: string; imageTag?: string }, repository: string, registryId: string): EcrApiError {
  return new EcrApiError(
    'ImageNotFoundException',
    `The image with imageId ${quoteImageId(id)} does not exist within the repository with name '${repository}' in the registry with id '${registryId}'`,
  );
}

/** The message AWS gives when IAM says no (the authorizer's `why` completes it). */
export function accessDeniedMessage(principal: string, action: string, resource: string, why: string): string {
  const reason = why.trim().replace(/^because\s+/i, '');
  return `User: ${principal} is not authorized to perform: ${action} on resource: ${resource}${reason ? ` because ${reason}` : ''}`;
}

export function accessDenied(principal: string, action: string, resource: string, why: string): EcrApiError {
  return new EcrApiError('AccessDeniedException', accessDeniedMessage(principal, action, resource, why));
}
