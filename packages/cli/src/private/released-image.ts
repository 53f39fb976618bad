/**
 * What `dcf sbom` and `dcf fetch` share to read a released image: the image argument
 * (`<id>[:<tag>]`, and `@<digest>` where it is allowed), the registry (the factory's ECR
 * registry with the token of `ecr:GetAuthorizationToken`, or a local one), and registry
 * failures as user errors that name the registry.
 */
import { OciRegistry, RegistryError, idProblem, isDigest, isTag, registryAnswers } from '@devcontainer-factory/core';
import { DcfError, ExitCode } from '../dcf-error';
import { localRegistryHostProblem } from '../local/local-registry';
import { aws } from './aws-errors';
import { findFactory } from './factory';
import type { Session } from './session';

/** The tag of a release when none is given. */
export const DEFAULT_TAG = 'latest';

/** An image argument: the id, and the tag or digest it names (`reference`). */
export interface ImageArgument {
  readonly id: string;
  /** The tag, or the digest with `@`. */
  readonly reference: string;
  /** How to show it: `<id>:<tag>` or `<id>@<digest>`. */
  readonly shown: string;
  readonly tag?: string;
  readonly digest?: string;
}

/**
 * `<id>[:<tag>]`, and `<id>@sha256:<hex>` when `digests` is set, checked.
 * @param usage what the argument looks like, for messages, e.g. `<id>[:<tag>]`
 */
export function parseImageArgument(image: string, options: { digests?: boolean; usage: string; examples: string }): ImageArgument {
  const at = options.digests ? image.indexOf('@') : -1;
  if (at >= 0) {
    const id = image.slice(0, at);
    const digest = image.slice(at + 1);
    checkId(id, options);
    if (!isDigest(digest))
      throw new DcfError(
        `'${digest}' is not a digest: give ${options.usage} with sha256: and 64 lowercase hex digits after the @, e.g. ${id}@sha256:${'0'.repeat(64)}`,
        ExitCode.Usage,
      );
    return { id, reference: digest, shown: `${id}@${digest}`, digest };
  }
  const colon = image.indexOf(':');
  const id = colon < 0 ? image : image.slice(0, colon);
  const tag = colon < 0 ? DEFAULT_TAG : image.slice(colon + 1);
  checkId(id, options);
  if (!isTag(tag)) {
    throw new DcfError(
      `'${tag}' is not a tag: give ${options.usage} with a tag of letters, digits, '_', '.' and '-' (at most 128), e.g. ${id}:latest or ${id}:1.2.3`,
      ExitCode.Usage,
    );
  }
  return { id, reference: tag, shown: `${id}:${tag}`, tag };
}

function checkId(id: string, options: { usage: string; examples: string }): void {
  const problem = idProblem(id);
  if (problem) throw new DcfError(`${problem} (give ${options.usage}, e.g. ${options.examples})`, ExitCode.Usage);
}

/** Refuses a `--registry` that is not a local registry address. */
export function checkRegistryOption(registry: string | undefined): void {
  if (registry === undefined) return;
  const problem = localRegistryHostProblem(registry);
  if (problem) throw new DcfError(`--registry: ${problem}`, ExitCode.Usage);
}

/** The registry to read: the local one of `--registry`, else the factory's ECR registry. */
export async function releaseRegistry(session: Session, registry: string | undefined): Promise<OciRegistry> {
  return registry === undefined ? ecrRegistry(session) : localRegistry(registry);
}

/** The factory's ECR registry, with the basic credentials of ECR's `GetAuthorizationToken`. */
async function ecrRegistry(session: Session): Promise<OciRegistry> {
  const factory = await findFactory(session.aws, session.options.namespace, undefined, session.options);
  const { GetAuthorizationTokenCommand } = await import('@aws-sdk/client-ecr');
  const ecr = await session.aws.ecr();
  const doing = `getting a token to read ${factory.registry} (ecr:GetAuthorizationToken)`;
  const answer = await aws(doing, () => ecr.send(new GetAuthorizationTokenCommand({})));
  const token = answer.authorizationData?.[0]?.authorizationToken;
  const decoded = token ? Buffer.from(token, 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  if (colon < 1) throw new DcfError(`ECR answered ${doing} without a usable token: try again, or check the region (--region)`, ExitCode.Aws);
  return new OciRegistry({ host: factory.registry, username: decoded.slice(0, colon), password: decoded.slice(colon + 1) });
}

async function localRegistry(host: string): Promise<OciRegistry> {
  if (!(await registryAnswers(host))) {
    throw new DcfError(
      `no registry answers at http://${host}/v2/: start it (e.g. dcf local run --keep-running) or pass the --registry it runs at`,
      ExitCode.Aws,
    );
  }
  return new OciRegistry({ host });
}

/** Registry failures (network, refused credentials, broken manifests) as user errors that name the registry. */
export async function readingFrom<T>(where: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (e) {
    if (e instanceof RegistryError && !(e instanceof DcfError)) throw new DcfError(`reading ${where} failed: ${e.message}`, ExitCode.Aws, { cause: e });
    throw e;
  }
}

/**
 * The manifest an image argument names in `repository`; a user error when there is none:
 * no repository (check the id and namespace), no such tag (the tags there are), no such digest.
 */
export async function releasedManifest(
  registry: OciRegistry,
  repository: string,
  image: ImageArgument,
): Promise<NonNullable<Awaited<ReturnType<OciRegistry['getManifest']>>>> {
  const where = `${registry.host}/${repository}`;
  const stored = await registry.getManifest(repository, image.reference);
  if (stored) return stored;
  const tags = await registry.listTags(repository);
  if (tags.length === 0) {
    throw new DcfError(
      `there is no image '${image.id}' in ${registry.host} (no repository ${repository}): check the id and --namespace, or release it first`,
      ExitCode.Aws,
    );
  }
  if (image.digest)
    throw new DcfError(`${where} has no manifest ${image.digest}: check the digest (dcf tags ${image.id} lists the released ones)`, ExitCode.Aws);
  const releaseTags = tags.filter((t) => !/^sha256-/.test(t)).sort();
  const listed = releaseTags.slice(0, 20).join(', ') + (releaseTags.length > 20 ? `, … (${releaseTags.length} in all)` : '');
  throw new DcfError(`${where} has no tag '${image.reference}': it has ${listed} (dcf tags ${image.id})`, ExitCode.Aws);
}
