/**
 * What the factory's constructs need of the CDK they run in, checked where it matters,
 * with a message that says what to install:
 *
 * - aws-cdk-lib {@link MIN_AWS_CDK_LIB} or newer: the constructs acknowledge cdk-nag
 *   findings by rule id and finding (`AwsSolutions::AwsSolutions-IAM5[Resource::*]`), which
 *   `Validations.acknowledge` of older versions refuses with "Invalid validation rule ID".
 * - cdk-nag 3 ({@link MIN_CDK_NAG}), when cdk-nag is used at all: cdk-nag 2 is an Aspect
 *   that reads only its own `NagSuppressions` metadata, so the acknowledgements the
 *   constructs make are invisible to it and it reports each of them as an error.
 *
 * Every construct package's peer ranges start at these versions (a test holds them
 * together), and the README examples are compiled and synthesized against them.
 */
import { readFileSync } from 'node:fs';
import { Aspects, Stack, type IAspect } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { compareSemver, parseSemver } from '@devcontainer-factory/core';

/** The oldest aws-cdk-lib the constructs run on: the floor of their `aws-cdk-lib` peer range. */
export const MIN_AWS_CDK_LIB = '2.269.0';
/** The oldest constructs library they run on: the floor of their `constructs` peer range (what aws-cdk-lib {@link MIN_AWS_CDK_LIB} needs, or newer). */
export const MIN_CONSTRUCTS = '10.5.1';
/** The oldest cdk-nag whose findings they acknowledge: the floor of their optional `cdk-nag` peer range. */
export const MIN_CDK_NAG = '3.0.2';

/** Thrown when the app's aws-cdk-lib is older than {@link MIN_AWS_CDK_LIB}. */
export class CdkVersionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CdkVersionError';
  }
}

let checkedVersion: string | undefined;

/**
 * The aws-cdk-lib version the app loaded; refuses one older than {@link MIN_AWS_CDK_LIB}.
 * @param installed the version to judge (the loaded aws-cdk-lib's when not given)
 * @throws CdkVersionError naming the version found and the one needed
 */
export function requireAwsCdkLib(installed?: string): string {
  if (installed === undefined && checkedVersion !== undefined) return checkedVersion;
  const version = installed ?? loadedAwsCdkLib();
  const found = parseSemver(version);
  if (!found || compareSemver(found, parseSemver(MIN_AWS_CDK_LIB)!) < 0) {
    throw new CdkVersionError(
      `@devcontainer-factory's constructs need aws-cdk-lib ${MIN_AWS_CDK_LIB} or newer, and this app has ${version}: ` +
        `its Validations refuse the cdk-nag acknowledgements the constructs make (rule ids with a finding, e.g. AwsSolutions::AwsSolutions-IAM5[Resource::*]). ` +
        `Upgrade it: npm install aws-cdk-lib@^${MIN_AWS_CDK_LIB}`,
    );
  }
  if (installed === undefined) checkedVersion = version;
  return version;
}

/** The version of the aws-cdk-lib this module resolves: the app's, as it is a peer. */
function loadedAwsCdkLib(): string {
  return (JSON.parse(readFileSync(require.resolve('aws-cdk-lib/package.json'), 'utf8')) as { version: string }).version;
}

const watched = new WeakSet<Stack>();

/**
 * Makes the stack of `scope` fail synthesis, with the way out, when a cdk-nag 2 pack (an
 * Aspect) is applied to it or to a construct above it. Once per stack.
 */
export function refuseCdkNag2(scope: IConstruct): void {
  const stack = Stack.of(scope);
  if (watched.has(stack)) return;
  watched.add(stack);
  stack.node.addValidation({
    validate: () => {
      const packs = stack.node.scopes.flatMap((s) => Aspects.of(s).all.filter(isCdkNag2Pack)).map(packName);
      if (packs.length === 0) return [];
      return [
        `cdk-nag 2 (the ${[...new Set(packs)].join(', ')} Aspect) is applied to ${stack.node.path}, and it cannot read the acknowledgements ` +
          `@devcontainer-factory's constructs make (cdk-nag 3's Validations): it would report each of them as an error. ` +
          `Use cdk-nag ${MIN_CDK_NAG} or newer (npm install cdk-nag@^${MIN_CDK_NAG}) and apply it with Validations.of(app).addPlugins(new AwsSolutionsChecks(app)) instead of Aspects.of(app).add(…)`,
      ];
    },
  });
}

/** A cdk-nag 2 NagPack: an Aspect with the pack's name and its `visit`. cdk-nag 3 packs are validation plugins, not Aspects. */
function isCdkNag2Pack(aspect: IAspect): boolean {
  const a = aspect as unknown as { readPackName?: unknown };
  let proto: object | null = Object.getPrototypeOf(aspect) as object | null;
  while (proto && proto !== Object.prototype) {
    if (proto.constructor?.name === 'NagPack') return true;
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  return typeof a.readPackName === 'string';
}

function packName(aspect: IAspect): string {
  const name = (aspect as unknown as { readPackName?: unknown }).readPackName;
  return typeof name === 'string' ? name : aspect.constructor.name;
}
