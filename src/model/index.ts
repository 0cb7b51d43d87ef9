/**
 * model layer: an opened checkpoint as typed objects (container, processes, files, sockets,
 * mounts, statistics), built from the images layer and the engine's metadata files.
 */
export { Checkpoint, openCheckpoint, type OpenCheckpointOptions } from './checkpoint.js';
export { ImageSet } from './image-set.js';
export { subtreeProcesses, MAX_TREE_DEPTH } from './processes.js';
export { ipAddressText, openFlagsText, capabilityNames, unixName } from '../images/linux.js';
export type * from './types.js';
export * from './memory/index.js';
export {
  listRootfsChanges,
  rootfsDiffMembers,
  rootfsFileContent,
  fileModeText,
  extractionRefusal,
  deletedFilesList,
  type ExtractionRefusal,
  ROOTFS_DIFF_MEMBER,
  DELETED_FILES_MEMBER,
  type RootfsChanges,
  type RootfsEntry,
  type RootfsEntryType,
  type RootfsDeletion,
  type RootfsMember,
  type RootfsOptions,
} from './rootfs.js';
export { diffCheckpoints, openForDiff, matchProcesses, diffRootfs } from './diff.js';
export type * from './diff.js';
export * from './coredump/index.js';
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
} from './evidence.js';

export { findFindings, FINDING_RULES, SEVERITIES, EVIDENCE_BYTES, severityRank, isSeverity } from './findings.js';
export type { Finding, FindingEvidence, FindingOptions, FindingRule, FindingContext, PendingFinding, Severity } from './findings.js';
