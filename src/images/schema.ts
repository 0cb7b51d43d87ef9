/**
 * The CRIU image schema at run time: the generated protobufjs JSON descriptor loaded with
 * Root.fromJSON (no .proto parsing, no `fs`), and compiled once per message into the flat field
 * tables the wire decoder and the crit-JSON printer walk.
 */
import protobuf from 'protobufjs/light.js';
import { schemaJson } from './schema.generated.js';

let rootCache: protobuf.Root | undefined;

/** The protobufjs Root of every CRIU image message (keepCase names; `(criu).*` options in field.options). */
export function schemaRoot(): protobuf.Root {
  if (!rootCache) {
    rootCache = protobuf.Root.fromJSON(schemaJson);
    rootCache.resolveAll();
  }
  return rootCache;
}

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

function critOptions(field: protobuf.Field): CritOptions {
  const o = field.options ?? {};
  const out: CritOptions = {};
  for (const [k, v] of Object.entries(o)) {
    const m = /^\(criu\)\.(\w+)$/.exec(k);
    if (!m) continue;
    (out as Record<string, unknown>)[m[1]!] = v;
  }
  return out;
}

function compile(type: protobuf.Type): MessageInfo {
  const name = type.fullName.replace(/^\./, '');
  const have = compiled.get(name);
  if (have) return have;
  const fields: FieldInfo[] = [];
  const byId = new Map<number, FieldInfo>();
  const info: MessageInfo = { name, fields, byId };
  compiled.set(name, info); // before recursing: message graphs may refer back
  const pending: Array<[FieldInfo, protobuf.Type]> = [];
  for (const f of [...type.fieldsArray].sort((a, b) => a.id - b.id)) {
    f.resolve();
    const rt = f.resolvedType;
    let fi: FieldInfo;
    const base = { name: f.name, id: f.id, repeated: f.repeated, required: f.required, opts: critOptions(f) };
    if (rt instanceof protobuf.Type) {
      fi = { ...base, type: 'message', wireType: 2 };
      pending.push([fi, rt]);
    } else if (rt instanceof protobuf.Enum) {
      const values = new Map<number, string>();
      for (const [k, v] of Object.entries(rt.values)) if (!values.has(v)) values.set(v, k);
      fi = { ...base, type: 'enum', wireType: 0, enumValues: values };
    } else if (f.type in WIRE) {
      fi = { ...base, type: f.type as ScalarType, wireType: WIRE[f.type as ScalarType] };
    } else {
      throw new Error(`schema: unsupported field type ${f.type} in ${name}.${f.name}`);
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
  return compile(schemaRoot().lookupType(name));
}

/** True when the schema has a message of this name. */
export function hasMessage(name: string): boolean {
  try {
    schemaRoot().lookupType(name);
    return true;
  } catch {
    return false;
  }
}
