/**
 * The one documented way for a configuration to name "this factory's registry": the
 * devcontainer CLI's `${localEnv:NAME}` substitution, with variables the factory sets
 * wherever it runs the devcontainer CLI (Build in CodeBuild, `dcf local`) and that
 * Prepare resolves the same way when it works out a build's inputs:
 *
 * - `${localEnv:DCF_REGISTRY}`: the registry host, `<account>.dkr.ecr.<region>.amazonaws.com`
 *   in the cloud, `localhost:<port>` locally;
 * - `${localEnv:DCF_NAMESPACE}`: the factory's namespace, e.g. `devcontainers`.
 *
 * e.g. `"features": { "${localEnv:DCF_REGISTRY}/${localEnv:DCF_NAMESPACE}/features/hello:1": {} }`.
 */

/** The environment variables the factory sets for the devcontainer CLI. */
export const FACTORY_VARIABLES = { registry: 'DCF_REGISTRY', namespace: 'DCF_NAMESPACE' } as const;

/** Their values where a configuration is built. */
export interface FactoryVariableValues {
  /** `DCF_REGISTRY`: the factory's registry host. */
  readonly registry: string;
  /** `DCF_NAMESPACE`: the factory's namespace. */
  readonly namespace: string;
}

/** Values to check the shape of a reference with, when no registry is at hand (`dcf validate`). */
export const EXAMPLE_FACTORY_VALUES: FactoryVariableValues = { registry: 'registry.example.com', namespace: 'devcontainers' };

/** `${localEnv:NAME}` or `${localEnv:NAME:default}`, as the devcontainer CLI substitutes them. */
const LOCAL_ENV = /\$\{localEnv:([^}:]*)(?::([^}]*))?\}/g;

/** The result of {@link substituteFactoryVariables}. */
export interface Substituted {
  readonly text: string;
  /** `${localEnv:…}` names other than the factory's, left as they were (their value is the builder's, not the factory's). */
  readonly unknown: readonly string[];
}

/**
 * Replaces `${localEnv:DCF_REGISTRY}` and `${localEnv:DCF_NAMESPACE}` (a default after a
 * second `:` is ignored: the factory always sets them) and reports any other
 * `${localEnv:…}`, which it leaves in place.
 */
export function substituteFactoryVariables(text: string, values: FactoryVariableValues): Substituted {
  const unknown: string[] = [];
  const out = text.replace(LOCAL_ENV, (whole, name: string) => {
    if (name === FACTORY_VARIABLES.registry) return values.registry;
    if (name === FACTORY_VARIABLES.namespace) return values.namespace;
    unknown.push(name);
    return whole;
  });
  return { text: out, unknown };
}

/** True when the text names a factory variable. */
export function usesFactoryVariables(text: string): boolean {
  return [...text.matchAll(LOCAL_ENV)].some((m) => m[1] === FACTORY_VARIABLES.registry || m[1] === FACTORY_VARIABLES.namespace);
}

/** The environment the devcontainer CLI gets from the factory. */
export function factoryEnvironment(values: FactoryVariableValues): Record<string, string> {
  return { [FACTORY_VARIABLES.registry]: values.registry, [FACTORY_VARIABLES.namespace]: values.namespace };
}
