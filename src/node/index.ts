/**
 * `@ckpt/core` for Node: everything in the runtime-neutral core (src/index.ts, listed by name
 * there), plus opening checkpoints from paths, the decompression and regex workers, and
 * Node's native SHA-256.
 */
export * from '../index.js';

// views: model objects -> text, as the CLI prints them (not in @ckpt/core/core: the tables use
// cli-table3, which needs Node's util and os)
export { inspectTree, renderTree, normaliseInspectOptions, type TreeNode, type InspectOptions } from '../views/tree.js';
export { inspectJson, inspectObject, showJson, listJson, problemsJson } from '../views/inspect-json.js';
export { showTable, listTable, hashLines, type ShowRow, type ListEntry } from '../views/table.js';
export { diffTree, diffJson, type DiffViewOptions } from '../views/diff.js';
export { Hexdump } from '../views/hexdump.js';
export {
  memoryRows,
  memoryTable,
  memoryTableJson,
  regionHeader,
  regionsJson,
  missingLine,
  matchHeader,
  matchLine,
  matchJson,
  mapsTable,
  mapsTree,
  mapsJson,
  type MemoryRow,
} from '../views/memparse.js';
export { safe, byteSize, jsonText } from '../views/format.js';
export { rootfsTree, rootfsJson, rootfsEntryJson, rootfsDeletionJson } from '../views/rootfs.js';
export { recoverManifest, recoverSummary, memdumpManifest, memdumpSummary, type WrittenArtifact, type DumpedRegionView } from '../views/evidence.js';
export { fileMatchHeader, fileMatchLine, fileMatchJson, artifactMatchJson } from '../views/file-matches.js';
export { findingsText, findingsJson, findingsSarif, findingJson } from '../views/findings.js';

export { openCheckpointFile, openSource, checkpointFiles } from './open.js';
export type { OpenSourceOptions, DecompressionMode } from './compressed-tar.js';
export { canDecompressInWorker, type WorkerRing } from './decompress-worker.js';
export { workerRegexRunner, type WorkerRunnerOptions } from './regex-worker.js';
export { rootfsDirectory, resolveInRoot } from './mapped-files.js';
export { writeOciArchive, writeOciLayout, type BuildImageOptions, type BuiltImage } from './oci-write.js';
export { nodeSha256, hashFile } from './hash.js';
// every file written goes through output.ts: atomic, no overwrite without force, never outside the target
export { createAtomicFile, writeAtomically, prepareOutputDir, outputPathInside, assertNotInput, type AtomicFile, type OutputOptions } from './output.js';
export { readTextFile } from './file-io.js';
// evidence out
export { extractRootfs, ROOTFS_SUBDIR, type RootfsExtraction, type ExtractedEntry } from './rootfs-extract.js';
export { writeArtifacts, type RecoveredArtifact } from './recover.js';
export { writeMemoryDump, type DumpedRegion } from './memdump.js';

export { disassembleX64, disassemblerProblem } from './disassemble.js';
export { compileYara, longestYaraString, type YaraRules } from './yara.js';
// plugins: ckpt-NAME executables on PATH
export { discoverPlugins, runPlugin, PLUGIN_PREFIX, MAX_PLUGIN_DEPTH, type Plugin } from './plugins.js';
