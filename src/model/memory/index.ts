/**
 * model/memory: process memory from CRIU images (mm, pagemap, pages, shmem pagemaps, memfd,
 * SysV shm), reads by address, and streaming search. Runtime-neutral: bytes come from the
 * CheckpointSource; nothing here touches fs.
 */
export { CheckpointMemory, copyFilePieces, type FilePiece } from './checkpoint-memory.js';
export type {
  ImageLookup,
  MemoryOptions,
  ProcessMemory,
  MemoryRegion,
  MemoryReadRequest,
  MissingRange,
  MemoryRun,
  MemoryChunk,
  ReadResult,
  SharedMemoryObject,
  SharedMapping,
  SharedKind,
} from './checkpoint-memory.js';
export { PageMap, PE_PARENT, PE_LAZY, PE_PRESENT, normaliseFlags, pageCount } from './pagemap.js';
export type { PageRun, Piece, MissingReason } from './pagemap.js';
export { labelFor, protString, type RegionLabel } from './regions.js';
export { memoryMaps, regionBacking, regionIsKind, matchesFilter, parseProtFilter, parseAddressFilter, parseRegionKinds, REGION_KINDS } from './maps.js';
export type { MapsFilter, MapsEntry, ProcessMaps, RegionKind } from './maps.js';
export { findMemoryMatches, searchCheckpoint, planSearch, compileRegex } from './search.js';
export type { SearchOptions, CheckpointSearchOptions, MemoryMatch } from './search.js';
export { parseHex, inThreadRunner, isWindowMatcher, type RegexRunner, type WindowMatcher, type WindowMatch } from './matchers.js';
export { literalSetMatcher, parseLiteralList, type Literal } from './literal-set.js';
export { PageHasher, pageHash, hashPagesFilesAt, regionHashes, comparePages, isPagesFile } from './page-hashes.js';
export type { PageHashes, HashedRun, HashedRegion, ChangedPages, PageChangeKind } from './page-hashes.js';
export { planMemoryDump, type RegionDump } from './dump.js';
