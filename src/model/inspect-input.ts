/**
 * What a report on a checkpoint (`ckpt inspect`, the tree and JSON views) needs from the model,
 * gathered before anything is printed: argv and environment from memory only when asked, and
 * every lazily built part computed now, so that a damaged image is found first.
 */
import type { Checkpoint } from './checkpoint.js';
import { artifactPreviews, type ArtifactPreview } from './evidence.js';
import { subtreeProcesses } from './processes.js';
import type { ProcessArguments } from './types.js';

/** The parts of a checkpoint a report shows (the views' InspectOptions extend this). */
export interface InspectParts {
  psTree?: boolean;
  /** Show each process's full command line (from memory) instead of its name. */
  psTreeCmd?: boolean;
  /** Show each process's environment (from memory). */
  psTreeEnv?: boolean;
  files?: boolean;
  sockets?: boolean;
  mounts?: boolean;
  stats?: boolean;
  metadata?: boolean;
  /** Only the subtree of this process. */
  pid?: number;
}

/** One checkpoint with what was read for its report. */
export interface InspectInput {
  checkpoint: Checkpoint;
  /** argv and environment by pid (read when psTreeCmd or psTreeEnv is set). */
  arguments?: Map<number, ProcessArguments>;
  /** The first bytes of ghost files and queues, by `pid:fd` (read for files and sockets). */
  previews?: Map<string, ArtifactPreview[]>;
  /** The archive's SHA-256 (read for metadata); null for a directory. */
  archiveSha256?: string | null;
  /** The pid shown, when the one asked for was a thread's id (then its process's pid). */
  pid?: number;
}

/**
 * Reads and computes what `parts` shows of `ck`. A `pid` that is not in the checkpoint shows no
 * process (check `ck.subtree(pid)` first to report it).
 */
export async function collectInspectInput(ck: Checkpoint, parts: InspectParts): Promise<InspectInput> {
  const input: InspectInput = { checkpoint: ck };
  if (parts.psTree && (parts.psTreeCmd || parts.psTreeEnv)) input.arguments = await ck.arguments(subtreeProcesses(ck.subtree(parts.pid) ?? []).map((p) => p.pid));
  if (parts.files || parts.sockets) input.previews = await artifactPreviews(ck);
  if (parts.metadata) input.archiveSha256 = (await ck.source.archiveSha256?.()) ?? null;
  void ck.container;
  void ck.sizes;
  if (parts.stats) void ck.statistics;
  if (parts.psTree) void ck.processes;
  if (parts.files) void ck.processesWithFiles;
  if (parts.sockets) void ck.sockets;
  if (parts.mounts) void ck.mounts;
  return input;
}
