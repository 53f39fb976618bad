import { FactoryError } from '@devcontainer-factory/core';

/** Thrown for props or attributes a warehouse cannot be built from; the message names the construct and says what to pass. */
export class WarehousePropsError extends FactoryError {}
