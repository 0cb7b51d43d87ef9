/**
 * The CRIU image schema at run time: the generated JSON descriptor (schema.generated.ts, made by
 * scripts/gen-schema.mjs with protobufjs from proto/*.proto) compiled once per message into the
 * flat field tables the wire decoder and the crit-JSON printer walk. protobufjs itself is not
 * loaded at run time (it cost ~35 ms of every command's start-up).
 */
import { schemaJson } from './schema.generated.js';
import type { SchemaField, SchemaNode } from './schema-descriptor.js';

export type ScalarType =
  | 'double'
  | 'float'
  | 'int32'
  | 'uint32'
  | 'sint32'
  | 'fixed32'
  | 'sfixed32'
  | 'int64'
  | 'uint64'
  | 'sint64'
  | 'fixed64'
  | 'sfixed64'
  | 'bool'
  | 'string'
  | 'bytes';

/** The `(criu).*` field options that steer crit's pretty printing. */
export interface CritOptions {
  hex?: boolean;
  ipadd?: boolean;
  flags?: string;
  dev?: boolean;
  odev?: boolean;
  dict?: string;
  conv?: string;
}

export interface FieldInfo {
  readonly name: string;
  readonly id: number;
  /** Scalar type name, or 'enum' / 'message'. */
  readonly type: ScalarType | 'enum' | 'message';
  readonly repeated: boolean;
  readonly required: boolean;
  /** Protobuf wire type of one unpacked value. */
  readonly wireType: number;
  /** For 'message' fields. */
  message?: MessageInfo;
  /** For 'enum' fields: number → name. */
  readonly enumValues?: ReadonlyMap<number, string>;
  readonly opts: CritOptions;
}

export interface MessageInfo {
  readonly name: string;
  /** Fields in field-number order (the order crit prints them in). */
  readonly fields: readonly FieldInfo[];
  readonly byId: ReadonlyMap<number, FieldInfo>;
}

const WIRE: Record<ScalarType, number> = {
  double: 1,
  float: 5,
  int32: 0,
  uint32: 0,
  sint32: 0,
  fixed32: 5,
  sfixed32: 5,
  int64: 0,
  uint64: 0,
  sint64: 0,
  fixed64: 1,
  sfixed64: 1,
  bool: 0,
  string: 2,
  bytes: 2,
};

const compiled = new Map<string, MessageInfo>();

/** A message or enum of the descriptor with its full name and the scopes it resolves names in. */
interface Found {
  name: string;
  node: SchemaNode;
  /** Enclosing scopes, innermost first, ending with the root. */
  scopes: SchemaNode[];
}

/** Looks up a dotted name from a list of scopes (innermost first), as protobuf resolves type names. */
function lookup(ref: string, scopes: readonly SchemaNode[], prefix: readonly string[][]): Found | undefined {
  const absolute = ref.startsWith('.');
  const parts = (absolute ? ref.slice(1) : ref).split('.');
  for (let i = absolute ? scopes.length - 1 : 0; i < scopes.length; i++) {
    let node: SchemaNode | undefined = scopes[i];
    const chain: SchemaNode[] = [];
    for (const p of parts) {
      node = node?.nested?.[p];
      if (!node) break;
      chain.push(node);
    }
    if (node) {
      const path = [...prefix[i]!, ...parts];
      return { name: path.join('.'), node, scopes: [...chain.slice(0, -1).reverse(), ...scopes.slice(i)] };
    }
  }
  return undefined;
}

function findType(name: string): Found | undefined {
  const f = lookup(name, [schemaJson], [[]]);
  return f && f.node.fields ? f : undefined;
}

function critOptions(field: SchemaField): CritOptions {
  const out: CritOptions = {};
  for (const [k, v] of Object.entries(field.options ?? {})) {
    const m = /^\(criu\)\.(\w+)$/.exec(k);
    if (!m) continue;
    (out as Record<string, unknown>)[m[1]!] = v;
  }
  return out;
}

/** The names of a scope list's prefixes, for full names: [M.N, M, root] -> [[M, N], [M], []]. */
function prefixes(found: Found): string[][] {
  const parts = found.name.split('.');
  return found.scopes.map((_, i) => parts.slice(0, parts.length - i));
}

function compile(type: Found): MessageInfo {
  const have = compiled.get(type.name);
  if (have) return have;
  const fields: FieldInfo[] = [];
  const byId = new Map<number, FieldInfo>();
  const info: MessageInfo = { name: type.name, fields, byId };
  compiled.set(type.name, info); // before recursing: message graphs may refer back
  const pending: Array<[FieldInfo, Found]> = [];
  // names inside a message resolve in the message first, then outwards
  const scopes = [type.node, ...type.scopes];
  const names = prefixes({ ...type, scopes });
  for (const [fname, f] of Object.entries(type.node.fields ?? {}).sort((a, b) => a[1].id - b[1].id)) {
    let fi: FieldInfo;
    const base = { name: fname, id: f.id, repeated: f.rule === 'repeated', required: f.rule === 'required', opts: critOptions(f) };
    if (f.type in WIRE) {
      fi = { ...base, type: f.type as ScalarType, wireType: WIRE[f.type as ScalarType] };
    } else {
      const rt = lookup(f.type, scopes, names);
      if (rt?.node.fields) {
        fi = { ...base, type: 'message', wireType: 2 };
        pending.push([fi, rt]);
      } else if (rt?.node.values) {
        const values = new Map<number, string>();
        for (const [k, v] of Object.entries(rt.node.values)) if (!values.has(v)) values.set(v, k);
        fi = { ...base, type: 'enum', wireType: 0, enumValues: values };
      } else {
        throw new Error(`schema: unknown field type ${f.type} in ${type.name}.${fname}`);
      }
    }
    fields.push(fi);
    byId.set(fi.id, fi);
  }
  for (const [fi, t] of pending) fi.message = compile(t);
  return info;
}

/** The compiled field table of a message, e.g. messageInfo('pstree_entry'). Throws for unknown names (a bug). */
export function messageInfo(name: string): MessageInfo {
  const have = compiled.get(name);
  if (have) return have;
  const t = findType(name);
  if (!t) throw new Error(`schema: no message ${name}`);
  return compile(t);
}

/** True when the schema has a message of this name. */
export function hasMessage(name: string): boolean {
  return findType(name) !== undefined;
}
