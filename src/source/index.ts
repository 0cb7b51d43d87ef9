/** source layer, runtime-neutral part: the contract, tar reading, in-memory sources. */
export type { CheckpointSource, SourceEntry } from './types.js';
export { MemorySource, tarBytesSource, imageBytesSource, readFiles, collectBody } from './memory.js';
export { detectFormat, type ContainerFormat } from './compression.js';
export { tarEntries, walkTarStream, indexTar } from './tar.js';
