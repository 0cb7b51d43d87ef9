/**
 * `@ckpt/core` for Node: everything in the runtime-neutral core (src/index.ts, listed by name
 * there), plus opening checkpoints from paths, the decompression and regex workers, and
 * Node's native SHA-256.
 */
export * from '../index.js';
export { openCheckpointFile, openSource, checkpointFiles } from './open.js';
export type { OpenSourceOptions, DecompressionMode } from './compressed-tar.js';
export { canDecompressInWorker, type WorkerRing } from './decompress-worker.js';
export { workerRegexRunner, type WorkerRunnerOptions } from './regex-worker.js';
export { nodeSha256 } from './hash.js';
