/**
 * `@ckpt/core` for Node: everything in the runtime-neutral core, plus sources that read files,
 * directories and compressed archives from disk.
 */
export * from './index.js';
export { openSource, checkpointFiles, TarFileSource, CompressedTarSource, FilesSource, hasNativeZstd, type OpenSourceOptions, type DecompressionMode } from './source/node.js';
export { canDecompressInWorker, type WorkerRing } from './source/decompress-worker.js';
export { openCheckpoint } from './model/open-node.js';
export { workerRegexRunner } from './model/memory/regex-worker.js';
export { nodeSha256 } from './node/hash.js';
