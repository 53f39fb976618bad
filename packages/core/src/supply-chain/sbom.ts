/**
 * The software bill of materials of one per-arch image, as CycloneDX 1.6 JSON: the
 * operating-system packages a generator found in the image's root file system (Trivy,
 * as cdxgen ships it, or any CycloneDX generator), and what the factory knows itself:
 * the image (digest, platform), the base images it was built from and the devcontainer
 * features it installed, each with the digest it was resolved to when the build ran.
 */
import { createHash } from 'node:crypto';
import type { ResolvedInput } from '../image/build-inputs';
import { FactoryError } from '../factory-error';
import { parseImageReference } from '../oci/image-reference';
import { describeValue, isJsonObject } from '../oci/private/json-value';

/** The largest generator output read (a big image's SBOM is a few MB). */
export const MAX_GENERATED_SBOM_BYTES = 64 * 1024 * 1024;
/** The property that says what a component is to the factory: `base`, `feature` or `package`. */
export const SBOM_INPUT_PROPERTY = 'devcontainer-factory:input';

/** The part of a CycloneDX document the factory reads and writes. */
export interface CycloneDxComponent {
  readonly type: string;
  readonly name: string;
  readonly version?: string;
  readonly purl?: string;
  readonly 'bom-ref'?: string;
  readonly hashes?: readonly { readonly alg: string; readonly content: string }[];
  readonly properties?: readonly { readonly name: string; readonly value: string }[];
  readonly [key: string]: unknown;
}
export interface CycloneDxBom {
  readonly bomFormat: 'CycloneDX';
  readonly specVersion: string;
  readonly serialNumber?: string;
  readonly version?: number;
  readonly metadata?: {
    readonly timestamp?: string;
    readonly tools?: { readonly components?: readonly CycloneDxComponent[] };
    readonly component?: CycloneDxComponent;
    readonly [key: string]: unknown;
  };
  readonly components?: readonly CycloneDxComponent[];
  readonly [key: string]: unknown;
}

/** Thrown when a generator's output is not a CycloneDX document the factory can use; nothing of it is stored. */
export class SbomError extends FactoryError {}

/**
 * Reads a generator's CycloneDX JSON, bounded and checked: a JSON object with
 * `bomFormat: CycloneDX`, whose `components` (and `metadata.tools.components`) are lists
 * of components, each an object with a string `type` and `name` and, when present, a list
 * of `properties` objects with a string `name` (and `value`). Anything else throws
 * {@link SbomError} naming the field and what it held, before the SBOM is composed or stored.
 */
export function parseGeneratedSbom(bytes: Uint8Array, generator: string): CycloneDxBom {
  if (bytes.length > MAX_GENERATED_SBOM_BYTES)
    throw new SbomError(`${generator} wrote ${bytes.length} bytes, over the limit of ${MAX_GENERATED_SBOM_BYTES} for an SBOM`);
  let bom: unknown;
  try {
    bom = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (cause) {
    throw new SbomError(`${generator} did not write JSON: ${(cause as Error).message}`, { cause });
  }
  if (!isJsonObject(bom) || bom.bomFormat !== 'CycloneDX') {
    throw new SbomError(
      `${generator} did not write a CycloneDX document: ${isJsonObject(bom) ? `its bomFormat is ${describeValue(bom.bomFormat)}` : `it wrote ${describeValue(bom)}`}`,
    );
  }
  const fail = (path: string, found: unknown, expected: string): never => {
    throw new SbomError(
      `${generator} wrote a CycloneDX document the factory cannot use: ${path} is ${describeValue(found)}, not ${expected}; no SBOM was stored`,
    );
  };
  const components = (v: unknown, path: string): void => {
    if (v === undefined) return;
    if (!Array.isArray(v)) return fail(path, v, 'a list of components');
    for (let i = 0; i < v.length; i++) {
      const at = `${path}[${i}]`;
      const c: unknown = v[i];
      if (!isJsonObject(c)) return fail(at, c, 'a component object');
      for (const key of ['type', 'name']) if (typeof c[key] !== 'string') fail(`${at}.${key}`, c[key], 'a string');
      if (c.properties === undefined) continue;
      if (!Array.isArray(c.properties)) return fail(`${at}.properties`, c.properties, 'a list of properties');
      for (let j = 0; j < c.properties.length; j++) {
        const p: unknown = c.properties[j];
        if (!isJsonObject(p)) return fail(`${at}.properties[${j}]`, p, 'a property object');
        if (typeof p.name !== 'string') fail(`${at}.properties[${j}].name`, p.name, 'a string');
        if (p.value !== undefined && typeof p.value !== 'string') fail(`${at}.properties[${j}].value`, p.value, 'a string');
      }
    }
  };
  components(bom.components, 'components');
  if (bom.metadata !== undefined) {
    if (!isJsonObject(bom.metadata)) fail('metadata', bom.metadata, 'an object');
    const tools = (bom.metadata as Record<string, unknown>).tools;
    // CycloneDX 1.4's tools were a list of tools (deprecated, and not read); from 1.5 an object of components and services.
    if (tools !== undefined && !Array.isArray(tools)) {
      if (!isJsonObject(tools)) fail('metadata.tools', tools, 'an object or a list');
      components((tools as Record<string, unknown>).components, 'metadata.tools.components');
    }
  }
  return bom as unknown as CycloneDxBom;
}

/** The image an SBOM describes. */
export interface SbomSubject {
  readonly host: string;
  /** Where it was built, e.g. `devcontainers/builds/python`. */
  readonly repository: string;
  readonly buildId: string;
  /** `linux/amd64` or `linux/arm64`. */
  readonly platform: string;
  /** The per-arch image manifest's digest. */
  readonly digest: string;
}

const hex = (digest: string) => digest.replace(/^sha256:/, '');

/** A package URL for an OCI artifact (`pkg:oci/<name>@<digest>?repository_url=…`). */
export function ociPurl(host: string, repository: string, digest: string, qualifiers: Readonly<Record<string, string>> = {}): string {
  const name = repository.split('/').pop()!;
  const q = new URLSearchParams({ repository_url: `${host}/${repository}`, ...qualifiers });
  return `pkg:oci/${name}@${encodeURIComponent(digest)}?${q.toString()}`;
}

function inputComponent(input: ResolvedInput): CycloneDxComponent {
  const ref = parseImageReference(input.reference);
  const purl = ref ? ociPurl(ref.host, ref.repository, input.digest, ref.tag ? { tag: ref.tag } : {}) : undefined;
  return {
    type: input.kind === 'base' ? 'container' : 'application',
    name: ref ? `${ref.host}/${ref.repository}` : input.reference,
    ...(ref?.tag && { version: ref.tag }),
    ...(purl && { purl, 'bom-ref': purl }),
    hashes: [{ alg: 'SHA-256', content: hex(input.digest) }],
    properties: [
      { name: SBOM_INPUT_PROPERTY, value: input.kind },
      { name: 'devcontainer-factory:reference', value: input.reference },
      { name: 'devcontainer-factory:digest', value: input.digest },
    ],
  };
}

export interface ComposeSbomOptions {
  readonly subject: SbomSubject;
  /** The bases and features of the build, as Prepare resolved them (the index's input record). */
  readonly inputs: readonly ResolvedInput[];
  /** The generator's document for the image's root file system; undefined when none ran. */
  readonly os?: CycloneDxBom;
  readonly now: Date;
}

/**
 * The image's SBOM: the generator's components (its packages, each marked `package`),
 * then the bases and features, with the image itself as `metadata.component`. The
 * serial number is derived from the image digest and content, so the same inputs give
 * the same document.
 */
export function composeImageSbom(options: ComposeSbomOptions): Buffer {
  const { subject } = options;
  const arch = subject.platform.split('/')[1] ?? subject.platform;
  const purl = ociPurl(subject.host, subject.repository, subject.digest, { arch });
  const packages = (options.os?.components ?? []).map((c) => ({
    ...c,
    properties: [...(c.properties ?? []), { name: SBOM_INPUT_PROPERTY, value: c.type === 'operating-system' ? 'os' : 'package' }],
  }));
  const body = {
    metadata: {
      timestamp: options.now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      tools: { components: [{ type: 'application', name: 'devcontainer-factory' }, ...(options.os?.metadata?.tools?.components ?? [])] },
      component: {
        type: 'container',
        name: `${subject.host}/${subject.repository}`,
        version: subject.buildId,
        purl,
        'bom-ref': purl,
        hashes: [{ alg: 'SHA-256', content: hex(subject.digest) }],
        properties: [{ name: 'devcontainer-factory:platform', value: subject.platform }],
      },
    },
    components: [...packages, ...options.inputs.map(inputComponent)],
  };
  const text = JSON.stringify(body);
  const h = createHash('sha256').update(subject.digest).update(text).digest('hex');
  const serial = `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  return Buffer.from(JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', serialNumber: serial, version: 1, ...body }, null, 2));
}
