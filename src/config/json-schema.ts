/**
 * JSON Schema (draft 7, the subset fastify's ajv and OpenAPI 3.0 read) of a scalar config option,
 * so a REST body that carries config values is described by the option's own declaration (range,
 * enum, doc) instead of a second copy.
 */
import type { Opt } from './dsl.js';

export function jsonSchemaOf(opt: Opt): Record<string, unknown> {
  const doc = { description: opt.doc };
  switch (opt.kind) {
    case 'int':
    case 'num':
      return {
        type: opt.kind === 'int' ? 'integer' : 'number',
        ...(opt.min !== undefined ? { minimum: opt.min } : {}),
        ...(opt.max !== undefined ? { maximum: opt.max } : {}),
        ...doc,
      };
    case 'bool':
      return { type: 'boolean', ...doc };
    case 'enum':
      // `booleans`: true/false are accepted for 'true'/'false' (the DSL check maps them).
      return opt.booleans ? { type: ['string', 'boolean'], enum: [...opt.values, true, false], ...doc } : { type: 'string', enum: [...opt.values], ...doc };
    case 'str':
      return opt.nullable ? { type: ['string', 'null'], ...doc } : { type: 'string', ...doc };
    default:
      throw new Error(`jsonSchemaOf: ${opt.kind} options have no scalar JSON schema`);
  }
}
