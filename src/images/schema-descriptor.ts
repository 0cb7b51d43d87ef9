/**
 * The shape of the JSON schema descriptor in schema.generated.ts (the part of protobufjs's JSON
 * format that the CRIU protos use): namespaces and messages with `nested`, messages with
 * `fields`, enums with `values`.
 */
export interface SchemaField {
  type: string;
  id: number;
  rule?: string;
  options?: Record<string, unknown>;
}

export interface SchemaNode {
  nested?: Record<string, SchemaNode>;
  fields?: Record<string, SchemaField>;
  values?: Record<string, number>;
  [other: string]: unknown;
}
