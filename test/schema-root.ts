/**
 * The schema as a protobufjs Root, for tests and tools that want protobufjs's reflection or its
 * encoder (the library decodes with its own wire decoder and does not load protobufjs).
 */
import protobuf from 'protobufjs/light.js';
import { schemaJson } from '../src/images/schema.generated.js';

let rootCache: protobuf.Root | undefined;

/** The protobufjs Root of every CRIU image message (keepCase names; `(criu).*` options in field.options). */
export function schemaRoot(): protobuf.Root {
  if (!rootCache) {
    rootCache = protobuf.Root.fromJSON(schemaJson as protobuf.INamespace);
    rootCache.resolveAll();
  }
  return rootCache;
}
