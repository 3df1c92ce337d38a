/**
 * The config schema DSL: every option is declared once with its type, default, unit and a doc line
 * (ejabberd's mod_opt_type/mod_options discipline). The loader validates against it, the config
 * reference in docs/config.md is generated from it, and TypeScript infers the Config type from it.
 */

export type Unit = 's' | 'ms' | 'bytes' | 'count' | 'per_s' | 'none';

interface Base {
  doc: string;
}
export interface IntOpt extends Base {
  kind: 'int';
  default: number;
  unit: Unit;
  min?: number;
  max?: number;
}
export interface NumOpt extends Base {
  kind: 'num';
  default: number;
  unit: Unit;
  min?: number;
  max?: number;
}
export interface BoolOpt extends Base {
  kind: 'bool';
  default: boolean;
}
export interface StrOpt<N extends boolean = boolean> extends Base {
  kind: 'str';
  default: N extends true ? string | null : string;
  nullable: N;
  /** Pattern the value must match (anchored by the author). */
  pattern?: RegExp;
  secret?: boolean;
}
export interface EnumOpt<V extends string = string> extends Base {
  kind: 'enum';
  values: readonly V[];
  default: V;
  /** YAML/JSON true and false stand for the values 'true' and 'false' (ejabberd's `false | true | if_offline`). */
  booleans?: boolean;
}
export interface ObjOpt<F extends Fields = Fields> extends Base {
  kind: 'obj';
  fields: F;
  /** A section that may be left out as a whole (then null): e.g. `cluster`, whose presence switches a mode. */
  optional?: boolean;
}
export interface MapOpt<V extends Opt = Opt> extends Base {
  kind: 'map';
  /** What the keys are (for the doc), e.g. "host name". */
  key: string;
  value: V;
  default: Record<string, unknown>;
}
export interface ListOpt<V extends Opt = Opt> extends Base {
  kind: 'list';
  item: V;
  default: unknown[];
}
export type Opt = IntOpt | NumOpt | BoolOpt | StrOpt | EnumOpt | ObjOpt | MapOpt | ListOpt;
export type Fields = Record<string, Opt>;

export type Infer<S> = S extends IntOpt | NumOpt
  ? number
  : S extends BoolOpt
    ? boolean
    : S extends StrOpt<infer N>
      ? N extends true
        ? string | null
        : string
      : S extends EnumOpt<infer V>
        ? V
        : S extends ObjOpt<infer F>
          ? S extends { optional: true }
            ? { [K in keyof F]: Infer<F[K]> } | null
            : { [K in keyof F]: Infer<F[K]> }
          : S extends MapOpt<infer V>
            ? Record<string, Infer<V>>
            : S extends ListOpt<infer V>
              ? Infer<V>[]
              : never;

type Spec<O> = Omit<O, 'kind'>;

export const int = (o: Spec<IntOpt>): IntOpt => ({ kind: 'int', ...o });
export const num = (o: Spec<NumOpt>): NumOpt => ({ kind: 'num', ...o });
export const bool = (o: Spec<BoolOpt>): BoolOpt => ({ kind: 'bool', ...o });
export const str = (o: Omit<Spec<StrOpt<false>>, 'nullable'>): StrOpt<false> => ({
  kind: 'str',
  nullable: false,
  ...o,
});
export const optStr = (o: Omit<Spec<StrOpt<true>>, 'nullable'>): StrOpt<true> => ({
  kind: 'str',
  nullable: true,
  ...o,
});
export const oneOf = <const V extends string>(o: Spec<EnumOpt<V>>): EnumOpt<V> => ({
  kind: 'enum',
  ...o,
});
export const obj = <F extends Fields>(doc: string, fields: F): ObjOpt<F> => ({
  kind: 'obj',
  doc,
  fields,
});
/** An optional section: absent or null in the file -> null; present -> validated with defaults filled. */
export const optObj = <F extends Fields>(doc: string, fields: F): ObjOpt<F> & { optional: true } => ({
  kind: 'obj',
  doc,
  fields,
  optional: true,
});
export const mapOf = <V extends Opt>(o: Spec<MapOpt<V>>): MapOpt<V> => ({ kind: 'map', ...o });
export const listOf = <V extends Opt>(o: Spec<ListOpt<V>>): ListOpt<V> => ({ kind: 'list', ...o });

/** The value an option takes when the file says nothing. */
export function defaults<S extends Opt>(opt: S): Infer<S> {
  return defaultsOf(opt) as Infer<S>;
}

function defaultsOf(opt: Opt): unknown {
  switch (opt.kind) {
    case 'obj': {
      if (opt.optional) return null;
      const out: Record<string, unknown> = {};
      for (const [k, f] of Object.entries(opt.fields)) out[k] = defaultsOf(f);
      return out;
    }
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(opt.default)) out[k] = check(opt.value, v, [k]);
      return out;
    }
    case 'list':
      return opt.default.map((v, i) => check(opt.item, v, [String(i)]));
    default:
      return opt.default;
  }
}

/** A value that does not fit the schema: names the key path, the value and what was expected. */
export class ConfigValueError extends Error {
  constructor(
    readonly path: readonly string[],
    readonly value: unknown,
    readonly expected: string,
  ) {
    super(`${path.join('.') || '(root)'}: got ${show(value)}, expected ${expected}`);
  }
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  try {
    const s = JSON.stringify(v);
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return String(v);
  }
}

export function describe(opt: Opt): string {
  switch (opt.kind) {
    case 'int':
    case 'num': {
      const what = opt.kind === 'int' ? 'an integer' : 'a number';
      const range =
        opt.min !== undefined && opt.max !== undefined
          ? ` from ${opt.min} to ${opt.max}`
          : opt.min !== undefined
            ? ` >= ${opt.min}`
            : opt.max !== undefined
              ? ` <= ${opt.max}`
              : '';
      return `${what}${range}${opt.unit === 'none' || opt.unit === 'count' ? '' : ` (${opt.unit})`}`;
    }
    case 'bool':
      return 'true or false';
    case 'str':
      return `a string${opt.pattern ? ` matching ${String(opt.pattern)}` : ''}${opt.nullable ? ' or null' : ''}`;
    case 'enum':
      return `one of ${opt.values.join(' | ')}`;
    case 'obj':
      return `a mapping with keys ${Object.keys(opt.fields).join(', ')}${opt.optional ? ' (or absent)' : ''}`;
    case 'map':
      return `a mapping of ${opt.key} to settings`;
    case 'list':
      return 'a list';
  }
}

/**
 * Validate `raw` (parsed YAML, possibly partial) against `opt`, filling defaults. Unknown keys are
 * errors (a typo must not silently fall back to a default). Throws ConfigValueError.
 */
export function validate<S extends Opt>(opt: S, raw: unknown, path: string[] = []): Infer<S> {
  return check(opt, raw, path) as Infer<S>;
}

/**
 * Validate some fields of an object option (a runtime change, not a whole file): only the keys
 * present are checked, no default is filled in, an unknown key is an error. Throws ConfigValueError.
 */
export function validatePartial<F extends Fields>(opt: ObjOpt<F>, raw: Record<string, unknown>, path: string[] = []): Partial<Infer<ObjOpt<F>>> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    const field = opt.fields[k];
    if (!field) throw unknownOption(opt, [...path, k], v);
    if (v !== undefined) out[k] = check(field, v, [...path, k]);
  }
  return out as Partial<Infer<ObjOpt<F>>>;
}

/** A key the object option does not declare: a typo must not silently fall back to a default. */
const unknownOption = (opt: ObjOpt, path: string[], value: unknown) =>
  new ConfigValueError(path, value, `no such option (known: ${Object.keys(opt.fields).join(', ')})`);

function check(opt: Opt, raw: unknown, path: string[]): unknown {
  if (raw === undefined) return defaultsOf(opt);
  const fail = (): never => {
    // A secret's value stays out of the message (it goes to logs and terminals).
    throw new ConfigValueError(path, opt.kind === 'str' && opt.secret ? '(secret)' : raw, describe(opt));
  };
  switch (opt.kind) {
    case 'int':
    case 'num': {
      if (typeof raw !== 'number' || Number.isNaN(raw)) fail();
      const n = raw as number;
      if (opt.kind === 'int' && !Number.isInteger(n)) fail();
      if (opt.min !== undefined && n < opt.min) fail();
      if (opt.max !== undefined && n > opt.max) fail();
      return n;
    }
    case 'bool':
      if (typeof raw !== 'boolean') fail();
      return raw;
    case 'str':
      if (raw === null && opt.nullable) return null;
      if (typeof raw !== 'string') fail();
      if (opt.pattern && !opt.pattern.test(raw as string)) fail();
      return raw;
    case 'enum': {
      const v = opt.booleans && typeof raw === 'boolean' ? String(raw) : raw;
      if (typeof v !== 'string' || !opt.values.includes(v)) fail();
      return v;
    }
    case 'obj': {
      if (raw === null && opt.optional) return null;
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail();
      const src = raw as Record<string, unknown>;
      for (const k of Object.keys(src)) {
        if (!(k in opt.fields)) throw unknownOption(opt, [...path, k], src[k]);
      }
      const out: Record<string, unknown> = {};
      for (const [k, f] of Object.entries(opt.fields)) out[k] = check(f, src[k], [...path, k]);
      return out;
    }
    case 'map': {
      if (raw === null) return {};
      if (typeof raw !== 'object' || Array.isArray(raw)) fail();
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        out[k] = check(opt.value, v ?? {}, [...path, k]);
      }
      return out;
    }
    case 'list': {
      if (raw === null) return [];
      if (!Array.isArray(raw)) fail();
      return (raw as unknown[]).map((v, i) => check(opt.item, v, [...path, String(i)]));
    }
  }
}

/** `value` (validated against `opt`) with every secret option that is set shown as "(set)". */
export function redactSecrets(opt: Opt, value: unknown): unknown {
  if (opt.kind === 'str') return opt.secret && value !== null && value !== undefined ? '(set)' : value;
  if (value === null || typeof value !== 'object') return value;
  const src = value as Record<string, unknown>;
  if (opt.kind === 'obj') return Object.fromEntries(Object.entries(src).map(([k, v]) => [k, opt.fields[k] ? redactSecrets(opt.fields[k], v) : v]));
  if (opt.kind === 'map') return Object.fromEntries(Object.entries(src).map(([k, v]) => [k, redactSecrets(opt.value, v)]));
  if (opt.kind === 'list' && Array.isArray(value)) return value.map((v) => redactSecrets(opt.item, v));
  return value;
}

/** Find the option at a key path (for env overrides and the REST PATCH validator). */
export function optionAt(root: Opt, path: readonly string[]): Opt | undefined {
  let cur: Opt | undefined = root;
  for (const k of path) {
    if (!cur) return undefined;
    if (cur.kind === 'obj') cur = cur.fields[k];
    else if (cur.kind === 'map') cur = cur.value;
    else return undefined;
  }
  return cur;
}
