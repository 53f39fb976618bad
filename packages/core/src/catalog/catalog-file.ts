/**
 * The catalogue file (`.json`, `.yaml` or `.yml`):
 *
 * ```yaml
 * namespace: devcontainers
 * images:
 *   - base
 *   - id: python
 *     platforms: [linux/amd64, linux/arm64]
 *     computeSize: large
 *     dependsOn: [base]
 *     releaseTags: [latest, semver, date]
 *     keepDateTags: 10
 *     refresh: daily
 *     usesFeatures: [hello]
 *     vulnerabilities:
 *       blockAt: HIGH
 *       allow:
 *         - { id: CVE-2024-12345, reason: "not reachable: the tool is never run", expires: 2027-01-31 }
 *     approval: true
 * features:
 *   - hello
 *   - id: tools
 *     approval: true
 * ```
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { RELEASE_TAG_RULES } from '../wire/image-jobs';
import {
  PLATFORMS,
  COMPUTE_SIZES,
  FEATURE_COMPUTE_SIZES,
  REFRESH_SCHEDULES,
  type CatalogFeatureEntry,
  type CatalogFile,
  type CatalogImageEntry,
} from './catalog-entry';
import { CatalogError } from './catalog-error';
import { checkIds } from './catalog-ids';
import { RETENTION_LIMITS } from '../image/retention';
import {
  BLOCK_AT_VALUES,
  VULNERABILITY_ID_PATTERN,
  VULNERABILITY_POLICY_LIMITS,
  isAllowanceExpiry,
  type VulnerabilityAllowance,
  type VulnerabilityPolicy,
} from '../supply-chain/vulnerability-gate';
import { arrayValue, asObject, booleanValue, checkKeys, enumList, enumValue, stringValue, uniqueStrings, wholeNumber } from './private/checked-values';

/** The keys of a catalogue file, an image entry and a feature entry. */
export const CATALOG_FILE_KEYS = ['namespace', 'images', 'features'] as const;
export const CATALOG_IMAGE_KEYS = [
  'id',
  'platforms',
  'computeSize',
  'dependsOn',
  'releaseTags',
  'keepDateTags',
  'refresh',
  'usesFeatures',
  'vulnerabilities',
  'approval',
] as const;
export const CATALOG_FEATURE_KEYS = ['id', 'computeSize', 'approval'] as const;

/**
 * Reads and checks a catalogue file: JSON for `.json`, YAML otherwise; known keys
 * and values, valid ids, each image and feature once. An empty file is an empty
 * catalogue. `dependsOn` and `usesFeatures` are checked once the whole catalogue is
 * known ({@link checkDependencies}, {@link buildOrder}, {@link checkFeatureUses}),
 * since the factory app adds images and features from context; the namespace by
 * whoever applies it. Throws {@link CatalogError}.
 */
export function readCatalogFile(path: string): CatalogFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new CatalogError(`cannot read catalogue file ${path}: ${(cause as Error).message}`, { cause });
  }
  return parseCatalogText(text, path);
}

/** Checks the text of a catalogue file as {@link readCatalogFile} does; `path` names it in messages and picks JSON (`.json`) or YAML. */
export function parseCatalogText(text: string, path: string): CatalogFile {
  const json = extname(path) === '.json';
  let raw: unknown;
  try {
    raw = json ? JSON.parse(text) : parseYaml(text);
  } catch (cause) {
    throw new CatalogError(`catalogue file ${path} is not valid ${json ? 'JSON' : 'YAML'}: ${(cause as Error).message}`, { cause });
  }
  if (raw === null || raw === undefined) return { images: [], features: [] };

  const top = asObject(raw, `catalogue file ${path}`);
  checkKeys(top, CATALOG_FILE_KEYS, `catalogue file ${path}`);
  const images = top.images === undefined ? [] : arrayValue(top.images, `'images' in ${path}`).map((e, i) => imageEntry(e, `images[${i}] in ${path}`));
  const features =
    top.features === undefined ? [] : arrayValue(top.features, `'features' in ${path}`).map((e, i) => featureEntry(e, `features[${i}] in ${path}`));
  checkIds(
    'image',
    images.map((e) => e.id),
    `the catalogue file ${path}`,
  );
  checkIds(
    'feature',
    features.map((e) => e.id),
    `the catalogue file ${path}`,
  );
  return {
    ...(top.namespace !== undefined && { namespace: stringValue(top.namespace, `'namespace' in ${path}`) }),
    images,
    features,
  };
}

/** The entry's mapping: a bare id is `{ id }`. */
function entryObject(raw: unknown, kind: 'image' | 'feature', keys: readonly string[], where: string): Record<string, unknown> & { id: string } {
  if (typeof raw === 'string') return { id: raw };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new CatalogError(`${where} must be ${kind === 'image' ? 'an image' : 'a feature'} id or a mapping with an 'id', got ${JSON.stringify(raw)}`);
  }
  const o = raw as Record<string, unknown>;
  checkKeys(o, keys, where);
  if (o.id === undefined) throw new CatalogError(`${where} has no 'id': give each ${kind} its id`);
  return { ...o, id: stringValue(o.id, `'id' of ${where}`) };
}

function imageEntry(raw: unknown, where: string): CatalogImageEntry {
  const o = entryObject(raw, 'image', CATALOG_IMAGE_KEYS, where);
  const of = (key: string) => `'${key}' of image '${o.id}'`;
  return {
    id: o.id,
    ...(o.platforms !== undefined && { platforms: enumList(o.platforms, PLATFORMS, of('platforms')) }),
    ...(o.computeSize !== undefined && { computeSize: enumValue(o.computeSize, COMPUTE_SIZES, of('computeSize')) }),
    ...(o.dependsOn !== undefined && { dependsOn: arrayValue(o.dependsOn, of('dependsOn')).map((d) => stringValue(d, of('dependsOn'))) }),
    ...(o.releaseTags !== undefined && { releaseTags: enumList(o.releaseTags, RELEASE_TAG_RULES, of('releaseTags')) }),
    ...(o.keepDateTags !== undefined && { keepDateTags: wholeNumber(o.keepDateTags, 1, RETENTION_LIMITS.keepDateTags, of('keepDateTags')) }),
    ...(o.refresh !== undefined && { refresh: enumValue(o.refresh, REFRESH_SCHEDULES, of('refresh')) }),
    ...(o.usesFeatures !== undefined && { usesFeatures: uniqueStrings(o.usesFeatures, of('usesFeatures')) }),
    ...(o.vulnerabilities !== undefined && { vulnerabilities: vulnerabilityPolicy(o.vulnerabilities, of('vulnerabilities')) }),
    ...(o.approval !== undefined && { approval: approvalValue(o.approval, `${of('approval')} (${where})`, 'Release') }),
  };
}

/** The most allowances one image's policy may list ({@link VULNERABILITY_POLICY_LIMITS}). */
export const MAX_VULNERABILITY_ALLOWANCES = VULNERABILITY_POLICY_LIMITS.maxAllowances;
const MAX_REASON_LENGTH = VULNERABILITY_POLICY_LIMITS.maxReasonLength;

function vulnerabilityPolicy(raw: unknown, where: string): Partial<VulnerabilityPolicy> {
  const o = asObject(raw, where);
  checkKeys(o, ['blockAt', 'allow'], where);
  const allowList = o.allow === undefined ? undefined : arrayValue(o.allow, `'allow' of ${where}`);
  if (allowList && allowList.length > MAX_VULNERABILITY_ALLOWANCES) {
    throw new CatalogError(
      `'allow' of ${where} lists ${allowList.length} findings, over the limit of ${MAX_VULNERABILITY_ALLOWANCES}: fix the image rather than allowing so many`,
    );
  }
  const allow = allowList?.map((entry, i): VulnerabilityAllowance => {
    const at = `allow[${i}] of ${where}`;
    const a = asObject(entry, at);
    checkKeys(a, ['id', 'reason', 'expires'], at);
    for (const key of ['id', 'reason', 'expires']) {
      if (a[key] === undefined) throw new CatalogError(`${at} has no '${key}': each allowance needs an id, a reason and an expiry date (YYYY-MM-DD)`);
    }
    const id = stringValue(a.id, `'id' of ${at}`);
    if (!VULNERABILITY_ID_PATTERN.test(id))
      throw new CatalogError(`'id' of ${at} is ${JSON.stringify(id)}: give the id the scanner reports, e.g. CVE-2024-12345`);
    const reason = stringValue(a.reason, `'reason' of ${at}`).trim();
    if (reason === '' || reason.length > MAX_REASON_LENGTH)
      throw new CatalogError(`'reason' of ${at} must say in 1 to ${MAX_REASON_LENGTH} characters why the finding is acceptable`);
    const expires = stringValue(a.expires, `'expires' of ${at}`);
    if (!isAllowanceExpiry(expires)) {
      throw new CatalogError(`'expires' of ${at} is ${JSON.stringify(expires)}: write the last day the allowance holds as YYYY-MM-DD`);
    }
    return { id, reason, expires };
  });
  const dup = allow?.find((a, i) => allow.findIndex((b) => b.id === a.id) !== i);
  if (dup) throw new CatalogError(`'allow' of ${where} lists '${dup.id}' twice`);
  return {
    ...(o.blockAt !== undefined && { blockAt: enumValue(o.blockAt, BLOCK_AT_VALUES, `'blockAt' of ${where}`) }),
    ...(allow && { allow }),
  };
}

function featureEntry(raw: unknown, where: string): CatalogFeatureEntry {
  const o = entryObject(raw, 'feature', CATALOG_FEATURE_KEYS, where);
  return {
    id: o.id,
    ...(o.computeSize !== undefined && { computeSize: enumValue(o.computeSize, FEATURE_COMPUTE_SIZES, `'computeSize' of feature '${o.id}'`) }),
    ...(o.approval !== undefined && { approval: approvalValue(o.approval, `'approval' of feature '${o.id}' (${where})`, 'Publish') }),
  };
}

/** `approval: true` or `false`; anything else (a YAML `yes`, a string, a mapping) says what to write. */
function approvalValue(v: unknown, where: string, stage: 'Release' | 'Publish'): boolean {
  return booleanValue(v, where, `write approval: true for a manual approval before ${stage}, or leave it out`);
}
