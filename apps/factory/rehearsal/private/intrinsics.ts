/**
 * CloudFormation's intrinsic functions and condition functions, evaluated over a scope
 * that knows the stack's parameters, conditions and resources. Anything the rehearsal
 * cannot evaluate (`Fn::ImportValue`, an unknown function) throws, naming the path.
 */

/** `Ref: AWS::NoValue`: the property or list element is removed. */
export const NO_VALUE: unique symbol = Symbol('AWS::NoValue');

/** What the evaluation needs from the stack. */
export interface IntrinsicScope {
  readonly region: string;
  /** `Ref` of a pseudo parameter, a parameter or a resource. */
  ref(name: string, path: string): unknown;
  /** `Fn::GetAtt` of a resource. */
  getAtt(logicalId: string, attribute: string, path: string): unknown;
  /** The value of a named condition. */
  condition(name: string, path: string): boolean;
  /** `Fn::FindInMap`. */
  findInMap(map: string, topKey: string, secondKey: string, path: string): unknown;
  /** Throws the rehearsal's error for `path`. */
  fail(message: string, path: string): never;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether `value` is an intrinsic function call: an object with one key, `Ref` or `Fn::…`. */
export function isIntrinsic(value: unknown): value is Record<string, unknown> {
  if (!isObject(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'));
}

/** Evaluates every intrinsic in `value`; `NO_VALUE` where `AWS::NoValue` removes it. */
export function resolveValue(value: unknown, path: string, scope: IntrinsicScope): unknown {
  if (Array.isArray(value)) {
    return value.map((v, i) => resolveValue(v, `${path}.${i}`, scope)).filter((v) => v !== NO_VALUE);
  }
  if (!isObject(value)) return value;
  if (isIntrinsic(value)) return callIntrinsic(value, path, scope);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const resolved = resolveValue(v, `${path}.${key}`, scope);
    if (resolved !== NO_VALUE) out[key] = resolved;
  }
  return out;
}

function callIntrinsic(call: Record<string, unknown>, path: string, scope: IntrinsicScope): unknown {
  const [fn, arg] = Object.entries(call)[0];
  const at = `${path}.${fn}`;
  switch (fn) {
    case 'Ref':
      if (typeof arg !== 'string') scope.fail(`Ref takes a name, got ${JSON.stringify(arg)}`, at);
      return arg === 'AWS::NoValue' ? NO_VALUE : scope.ref(arg, at);
    case 'Fn::GetAtt':
      return getAtt(arg, at, scope);
    case 'Fn::Join': {
      const [delimiter, list] = args(arg, 2, fn, at, scope);
      const items = resolveValue(list, `${at}.1`, scope);
      if (typeof delimiter !== 'string' || !Array.isArray(items)) scope.fail('Fn::Join takes a delimiter and a list', at);
      return items.map((item, i) => text(item, `${at}.1.${i}`, scope)).join(delimiter);
    }
    case 'Fn::Sub':
      return sub(arg, at, scope);
    case 'Fn::Select': {
      const [index, list] = args(arg, 2, fn, at, scope).map((a, i) => resolveValue(a, `${at}.${i}`, scope));
      const n = Number(index);
      if (!Array.isArray(list) || !Number.isInteger(n) || n < 0 || n >= list.length) scope.fail(`Fn::Select index ${String(index)} is outside the list`, at);
      return list[n];
    }
    case 'Fn::Split': {
      const [delimiter, source] = args(arg, 2, fn, at, scope).map((a, i) => resolveValue(a, `${at}.${i}`, scope));
      if (typeof delimiter !== 'string') scope.fail('Fn::Split takes a delimiter and a string', at);
      return text(source, `${at}.1`, scope).split(delimiter);
    }
    case 'Fn::If': {
      const [condition, whenTrue, whenFalse] = args(arg, 3, fn, at, scope);
      if (typeof condition !== 'string') scope.fail('Fn::If takes a condition name', at);
      return scope.condition(condition, at) ? resolveValue(whenTrue, `${at}.1`, scope) : resolveValue(whenFalse, `${at}.2`, scope);
    }
    case 'Fn::Equals':
    case 'Fn::Not':
    case 'Fn::And':
    case 'Fn::Or':
    case 'Fn::Contains':
    case 'Fn::EachMemberEquals':
    case 'Fn::EachMemberIn':
      return evaluateCondition(call, path, scope);
    case 'Fn::Base64':
      return Buffer.from(text(resolveValue(arg, at, scope), at, scope), 'utf8').toString('base64');
    case 'Fn::GetAZs': {
      const region = resolveValue(arg, at, scope);
      const r = typeof region === 'string' && region.length > 0 ? region : scope.region;
      return ['a', 'b', 'c'].map((zone) => `${r}${zone}`);
    }
    case 'Fn::FindInMap': {
      const [map, top, second] = args(arg, 3, fn, at, scope).map((a, i) => text(resolveValue(a, `${at}.${i}`, scope), `${at}.${i}`, scope));
      return scope.findInMap(map, top, second, at);
    }
    case 'Fn::ImportValue':
      return scope.fail(
        `Fn::ImportValue ${JSON.stringify(arg)}: the factory's stacks must not import from each other (they read SSM parameters instead), and the rehearsal does not model exports`,
        at,
      );
    default:
      return scope.fail(`the rehearsal does not model the intrinsic function ${fn}`, at);
  }
}

/**
 * A condition: `Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or`, `{ Condition: name }`, and
 * the rule functions `Fn::Contains`, `Fn::EachMemberEquals`, `Fn::EachMemberIn`.
 */
export function evaluateCondition(expression: unknown, path: string, scope: IntrinsicScope): boolean {
  if (!isObject(expression) || Object.keys(expression).length !== 1)
    scope.fail(`a condition must be one condition function, got ${JSON.stringify(expression)}`, path);
  const [fn, arg] = Object.entries(expression)[0];
  const at = `${path}.${fn}`;
  const list = (v: unknown, p: string) => {
    const resolved = resolveValue(v, p, scope);
    if (!Array.isArray(resolved)) scope.fail(`${fn} takes a list`, p);
    return resolved.map((item) => JSON.stringify(item));
  };
  switch (fn) {
    case 'Condition':
      if (typeof arg !== 'string') scope.fail('Condition takes a condition name', at);
      return scope.condition(arg, at);
    case 'Fn::Equals': {
      const [a, b] = args(arg, 2, fn, at, scope).map((v, i) => resolveValue(v, `${at}.${i}`, scope));
      return JSON.stringify(a) === JSON.stringify(b);
    }
    case 'Fn::Not':
      return !evaluateCondition(args(arg, 1, fn, at, scope)[0], `${at}.0`, scope);
    case 'Fn::And':
    case 'Fn::Or': {
      if (!Array.isArray(arg) || arg.length < 2 || arg.length > 10) scope.fail(`${fn} takes 2 to 10 conditions`, at);
      const values = arg.map((c, i) => evaluateCondition(c, `${at}.${i}`, scope));
      return fn === 'Fn::And' ? values.every(Boolean) : values.some(Boolean);
    }
    case 'Fn::Contains': {
      const [items, value] = args(arg, 2, fn, at, scope);
      return list(items, `${at}.0`).includes(JSON.stringify(resolveValue(value, `${at}.1`, scope)));
    }
    case 'Fn::EachMemberEquals': {
      const [items, value] = args(arg, 2, fn, at, scope);
      const expected = JSON.stringify(resolveValue(value, `${at}.1`, scope));
      return list(items, `${at}.0`).every((item) => item === expected);
    }
    case 'Fn::EachMemberIn': {
      const [items, allowed] = args(arg, 2, fn, at, scope);
      const pool = list(allowed, `${at}.1`);
      return list(items, `${at}.0`).every((item) => pool.includes(item));
    }
    default:
      return scope.fail(`the rehearsal does not model the condition function ${fn}`, at);
  }
}

function getAtt(arg: unknown, at: string, scope: IntrinsicScope): unknown {
  if (typeof arg === 'string') {
    const dot = arg.indexOf('.');
    if (dot < 1) scope.fail(`Fn::GetAtt takes 'LogicalId.Attribute', got ${JSON.stringify(arg)}`, at);
    return scope.getAtt(arg.slice(0, dot), arg.slice(dot + 1), at);
  }
  const [logicalId, attribute] = args(arg, 2, 'Fn::GetAtt', at, scope);
  const name = resolveValue(attribute, `${at}.1`, scope);
  if (typeof logicalId !== 'string' || typeof name !== 'string') scope.fail('Fn::GetAtt takes a logical id and an attribute name', at);
  return scope.getAtt(logicalId, name, at);
}

/** `Fn::Sub`, both forms: `${Name}`, `${Resource.Attribute}`, `${!Literal}` and the variable map. */
function sub(arg: unknown, at: string, scope: IntrinsicScope): string {
  const [template, variables] = typeof arg === 'string' ? [arg, {}] : args(arg, 2, 'Fn::Sub', at, scope);
  if (typeof template !== 'string' || !isObject(variables)) scope.fail('Fn::Sub takes a string, or a string and a map of variables', at);
  const values = new Map(Object.entries(variables).map(([k, v]) => [k, resolveValue(v, `${at}.1.${k}`, scope)]));
  return template.replace(/\$\{([^}]*)\}/g, (_match, body: string) => {
    if (body.startsWith('!')) return `\${${body.slice(1)}}`;
    const name = body.trim();
    if (values.has(name)) return text(values.get(name), `${at}.1.${name}`, scope);
    const dot = name.indexOf('.');
    if (dot > 0 && !name.startsWith('AWS::')) return text(scope.getAtt(name.slice(0, dot), name.slice(dot + 1), at), at, scope);
    return text(scope.ref(name, at), at, scope);
  });
}

function args(arg: unknown, count: number, fn: string, at: string, scope: IntrinsicScope): unknown[] {
  if (!Array.isArray(arg) || arg.length !== count) scope.fail(`${fn} takes ${count} argument${count === 1 ? '' : 's'}, got ${JSON.stringify(arg)}`, at);
  return arg;
}

function text(value: unknown, at: string, scope: IntrinsicScope): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return scope.fail(`expected a string, got ${JSON.stringify(value)}`, at);
}
