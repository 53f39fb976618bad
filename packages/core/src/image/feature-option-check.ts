/**
 * The options devcontainer.json gives its OCI features, checked at Prepare against each
 * feature's definition as the build will install it: the artifact at the digest Prepare
 * resolved (or the lockfile locked). `dcf validate` checks local features the same way
 * from the folder; an OCI feature's definition is only in its registry.
 */
import { mapLimit } from '../concurrency';
import type { ConfigProblem } from '../config-files';
import { publishedFeatureOf } from '../feature/feature-artifact';
import { checkFeatureOptions, featureDefinitionOfManifest } from '../feature/feature-options';
import { parseImageReference } from '../oci/image-reference';
import type { Registry } from '../oci/registry';
import { BuildInputError, type ConfigurationFiles, type ConfigurationInput, type ResolvedInput } from './build-inputs';

/** What {@link checkOciFeatureOptions} found: problems refuse the build, warnings go into Prepare's summary. */
export interface FeatureOptionFindings {
  /** What the devcontainer CLI would fail on, at the feature's line in devcontainer.json. */
  readonly problems: readonly ConfigProblem[];
  /** What the CLI tolerates but probably is not meant, and features whose definition could not be read. */
  readonly warnings: readonly string[];
}

/** Features whose definitions are read at once. */
const CONCURRENCY = 8;

/**
 * For each OCI feature devcontainer.json names (not the ones only its lockfile adds: nothing
 * gives those options), reads the definition from the manifest at the resolved digest (the
 * `dev.containers.metadata` annotation; for features published without it, the
 * `devcontainer-feature.json` in the feature's layer) and checks the options given to it.
 * One manifest read per feature; a layer read only for features without the annotation.
 * @param inputs the configuration's inputs, as {@link configurationInputs} gives them
 * @param resolved the digests {@link resolveBuildInputs} gave them
 * @throws BuildInputError naming the feature when its registry cannot be read or has no manifest at that digest
 */
export async function checkOciFeatureOptions(
  files: ConfigurationFiles,
  inputs: readonly ConfigurationInput[],
  resolved: readonly ResolvedInput[],
  registryFor: (host: string) => Registry,
): Promise<FeatureOptionFindings> {
  const features = files.config.features;
  if (typeof features !== 'object' || features === null || Array.isArray(features)) return { problems: [], warnings: [] };
  const digests = new Map(resolved.map((r) => [`${r.kind} ${r.reference}`, r.digest]));
  const given = inputs.filter((i) => i.kind === 'feature' && i.file === files.configPath && Object.hasOwn(features, i.written));
  const findings = await mapLimit(given, CONCURRENCY, async (input) => {
    const digest = digests.get(`feature ${input.reference}`);
    const parsed = parseImageReference(input.reference);
    if (!digest || !parsed) return { problems: [], warnings: [] };
    const definition = await definitionAt(
      registryFor(parsed.host),
      parsed.repository,
      digest,
      `${parsed.host}/${parsed.repository}@${digest}`,
      input.reference,
    );
    if (definition === undefined) {
      return {
        problems: [],
        warnings: [
          `feature ${input.written}: its definition could not be read from ${parsed.host}/${parsed.repository}@${digest.slice(0, 19)}, so the options given to it were not checked`,
        ],
      };
    }
    const at = { file: input.file, ...(input.line !== undefined && { line: input.line }) };
    const found = checkFeatureOptions(input.written, definition, (features as Record<string, unknown>)[input.written]);
    return {
      problems: found.filter((f) => f.severity === 'error').map((f) => ({ ...at, message: f.message })),
      warnings: found.filter((f) => f.severity === 'warning').map((f) => f.message),
    };
  });
  return { problems: findings.flatMap((f) => f.problems), warnings: findings.flatMap((f) => f.warnings) };
}

async function definitionAt(registry: Registry, repository: string, digest: string, where: string, reference: string): Promise<unknown> {
  try {
    const stored = await registry.getManifest(repository, digest);
    if (!stored) {
      throw new BuildInputError(
        `the feature ${reference} resolves to ${where}, which does not exist: the build could not install it; publish it again, or fix the reference (or the lockfile) in the configuration`,
      );
    }
    return (
      featureDefinitionOfManifest(stored.body) ?? (await publishedFeatureOf(registry, repository, stored, `${registry.host}/${repository}:${digest}`)).metadata
    );
  } catch (cause) {
    if (cause instanceof BuildInputError) throw cause;
    throw new BuildInputError(
      `cannot read the definition of the feature ${reference} (${where}) to check the options given to it: ${(cause as Error).message}`,
      { cause },
    );
  }
}
