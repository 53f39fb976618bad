import { FactoryError } from '../factory-error';

/** Thrown for any bad catalogue input; the message names the value, where it is and the rule. */
export class CatalogError extends FactoryError {}
