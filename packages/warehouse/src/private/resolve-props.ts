/**
 * The props of a {@link Warehouse}, checked and with their defaults, as a pure function
 * of the props, so the constructor only wires and the rules are tested without a stack.
 * Errors carry no construct path; the constructor adds it (`atConstructPath`).
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { DEFAULT_NAMESPACE, validateNamespace } from '@devcontainer-factory/core';
import type { WarehouseProps } from '../warehouse';
import { WarehousePropsError } from '../warehouse-props-error';
import { checkNotify } from './failure-notifications';

/** What {@link resolveWarehouseProps} makes of the props. */
export interface ResolvedWarehouseProps {
  readonly namespace: string;
  readonly removalPolicy: RemovalPolicy;
  /** Whole days: noncurrent source versions, artifacts, access logs, untagged images, staging images. */
  readonly days: {
    readonly sourceVersions: number;
    readonly artifacts: number;
    readonly accessLogs: number;
    readonly untaggedImages: number;
    readonly staging: number;
  };
  /** The endpoints to subscribe to the failure topic, checked (tokens as they are). */
  readonly notify: readonly string[];
}

/**
 * The props, checked, with their defaults.
 * @throws WarehousePropsError naming the prop and what to pass instead
 */
export function resolveWarehouseProps(props: WarehouseProps): ResolvedWarehouseProps {
  const notify = checkNotify(props.notify ?? []);
  return {
    namespace: validateNamespace(props.namespace ?? DEFAULT_NAMESPACE),
    removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    days: {
      sourceVersions: wholeDays('sourceVersionRetention', props.sourceVersionRetention ?? Duration.days(30)),
      artifacts: wholeDays('artifactRetention', props.artifactRetention ?? Duration.days(7)),
      accessLogs: wholeDays('accessLogRetention', props.accessLogRetention ?? Duration.days(365)),
      untaggedImages: wholeDays('untaggedImageRetention', props.untaggedImageRetention ?? Duration.days(14)),
      staging: wholeDays('stagingRetention', props.stagingRetention ?? Duration.days(14)),
    },
    notify: [...notify],
  };
}

function wholeDays(prop: string, d: Duration): number {
  const days = d.toDays({ integral: false });
  if (!Number.isInteger(days) || days < 1) throw new WarehousePropsError(`${prop} must be a whole number of days, at least 1 (got ${d.toHumanString()})`);
  return days;
}
