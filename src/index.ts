/**
 * `@ckpt/core/core`, runtime-neutral: bytes in, objects out. No `fs`, no Node-only modules.
 * `@ckpt/core` (src/node/index.ts) is this plus the Node sources.
 *
 * The public API, listed by name. The layer barrels (source/index.ts, images/index.ts,
 * model/index.ts, views/index.ts) are for the layers above; a name is public only when it is
 * listed here. The API report (test/api-report) records the resulting declarations.
 */
export { CkptError, isCkptError } from './errors.js';

// sources: the bytes of a checkpoint
export type { CheckpointSource, SourceEntry } from './source/types.js';
export { BaseSource } from './source/base.js';
export { StreamedTarSource } from './source/streamed-tar.js';
export { MemorySource, tarBytesSource, imageBytesSource } from './source/memory.js';
export { openBlobSource, type BlobLike, type BlobSourceOptions } from './source/blob.js';
export { detectFormat, type ContainerFormat } from './source/compression.js';
export { portableSha256, sha256Hex, type Sha256, type Sha256Factory } from './source/hash.js';
export { CHECKPOINT_DIR, MEMBERS, imageMember, imageName, inCheckpointDir, isImageMember } from './source/layout.js';

// images: CRIU image files -> typed entries, crit's JSON
export { decodeImage, type CriuImage, type CriuEntry, type EntryExtra, type TcpQueues, type IpcQueuedMessage } from './images/decode.js';
export { decodeImages, imagePath } from './images/select.js';
export { toCritJson, stringifyJson, critJsonChunks, type CritJsonOptions } from './images/crit-json.js';
export { MAGICS, magicByValue, magicByName, rawImageKind, isRawImageName, type MagicInfo, type MagicKind, type PayloadKind } from './images/magic.js';
export { entriesOf, pagemapOf, type ImageEntries } from './images/typed.js';
export type { CritOptions } from './images/schema.js';
// one interface per CRIU protobuf message (PstreeEntry, CoreEntry, ...) and the enums' const objects (generated)
export * from './images/messages.js';

// model: an opened checkpoint as typed objects
export { Checkpoint, openCheckpoint, type OpenCheckpointOptions } from './model/checkpoint.js';
export { ImageSet } from './model/image-set.js';
export { collectInspectInput, type InspectInput, type InspectParts } from './model/inspect-input.js';
export type {
  Engine,
  ContainerImage,
  NetworkInterface,
  NetworkInfo,
  ContainerInfo,
  CheckpointSizes,
  DumpStatistics,
  ProcessState,
  CapabilitySets,
  Credentials,
  SeccompState,
  Thread,
  Peer,
  OpenFile,
  SocketAddress,
  Socket,
  Process,
  SpecMount,
  CriuMount,
  Mounts,
  ProcessArguments,
  CheckpointProblem,
} from './model/types.js';
export {
  listRootfsChanges,
  rootfsDiffMembers,
  rootfsFileContent,
  fileModeText,
  ROOTFS_DIFF_MEMBER,
  DELETED_FILES_MEMBER,
  type RootfsChanges,
  type RootfsEntry,
  type RootfsEntryType,
  type RootfsDeletion,
  type RootfsMember,
  type RootfsOptions,
  extractionRefusal,
  deletedFilesList,
  type ExtractionRefusal,
} from './model/rootfs.js';
// model: evidence that lives only in the checkpoint (recover), and memory export plans (memdump)
export {
  listArtifacts,
  artifactBytes,
  artifactPreviews,
  safeFileName,
  type Artifact,
  type ArtifactKind,
  type ArtifactPiece,
  type ArtifactOptions,
  type ArtifactPreview,
} from './model/evidence.js';
export { planMemoryDump, type RegionDump } from './model/memory/dump.js';

// model: two checkpoints compared
export {
  diffCheckpoints,
  openForDiff,
  type CheckpointDiff,
  type DiffInput,
  type DiffOptions,
  type OpenForDiffOptions,
  type DiffSide,
  type DiffValue,
  type FieldChange,
  type ChangeStatus,
  type EnvironmentChanges,
  type ProcessChange,
  type FileChange,
  type SocketChange,
  type MountChange,
  type PageRange,
  type RegionChange,
  type MemoryDiff,
  type RootfsFileChange,
  type StatisticChange,
} from './model/diff.js';

// model: a checkpoint as an OCI checkpoint image (ckpt build)
export {
  checkpointImageFacts,
  checkpointAnnotations,
  checkpointImageDocuments,
  layerMembers,
  layerSize,
  layerChunks,
  type CheckpointImageFacts,
  type CheckpointImageOptions,
  type OciBlob,
} from './model/oci-image.js';

// model: process memory and search
export {
  CheckpointMemory,
  type ImageLookup,
  type MemoryOptions,
  type ProcessMemory,
  type MemoryRegion,
  type MemoryReadRequest,
  type MissingRange,
  type MemoryRun,
  type ReadResult,
  type SharedMemoryObject,
  type SharedMapping,
  type SharedKind,
} from './model/memory/checkpoint-memory.js';
export type { MissingReason } from './model/memory/pagemap.js';
export { walkMemory, type MemoryWalkItem } from './model/memory/walk.js';
export {
  memoryMaps,
  parseProtFilter,
  parseAddressFilter,
  parseRegionKinds,
  REGION_KINDS,
  type MapsFilter,
  type MapsEntry,
  type ProcessMaps,
  type RegionKind,
} from './model/memory/maps.js';
export { findMemoryMatches, searchCheckpoint, compileRegex, type SearchOptions, type CheckpointSearchOptions, type MemoryMatch } from './model/memory/search.js';
export { parseHex, inThreadRunner, isWindowMatcher, type RegexRunner, type WindowMatcher, type WindowMatch } from './model/memory/matchers.js';
export { literalSetMatcher, parseLiteralList, type Literal } from './model/memory/literal-set.js';

// model: ELF core files of checkpointed processes
export {
  writeCore,
  checkCoreable,
  rootfsDiffFiles,
  type CoreSink,
  type CoreReport,
  type CoreGap,
  type CoreGapReason,
  type FileRange,
  type MappedFileSource,
  type ParentImages,
  type WriteCoreOptions,
} from './model/coredump/index.js';

// model: searching the files of the root file-system diff (YARA, indicator lists)
export { findRootfsMatches, findArtifactMatches, type FileMatch, type ArtifactMatch } from './model/rootfs-scan.js';

// model: findings of tampering
export {
  findFindings,
  FINDING_RULES,
  SEVERITIES,
  EVIDENCE_BYTES,
  severityRank,
  isSeverity,
  type Finding,
  type FindingEvidence,
  type FindingOptions,
  type FindingRule,
  type FindingContext,
  type PendingFinding,
  type Severity,
} from './model/findings.js';
