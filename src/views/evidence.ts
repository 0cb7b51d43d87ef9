/**
 * Views of recovered evidence: the manifest of `ckpt recover` (JSON) and its printed summary.
 * Pure: data in, text or plain JSON out.
 */
import type { Artifact } from '../model/evidence.js';
import { byteSize, safe } from './format.js';
import { table } from './table.js';

/** What a writer did with an artifact (src/node/recover.ts's RecoveredArtifact). */
export interface WrittenArtifact {
  artifact: Artifact;
  file: string;
  sha256: string;
  written: number;
  error: string | null;
}

/** manifest.json of `ckpt recover`: stable key order, null where a field has no value. */
export function recoverManifest(checkpoint: string, archiveSha256: string | null, pid: number | null, written: readonly WrittenArtifact[]): unknown {
  return {
    kind: 'recover',
    checkpoint,
    archiveSha256,
    pid,
    artifacts: written.map(({ artifact: a, file, sha256, written: n, error }) => ({
      file,
      kind: a.kind,
      pid: a.pid,
      fd: a.fd,
      path: a.path,
      peer: a.peer,
      direction: a.direction,
      size: a.size,
      written: n,
      sha256,
      member: a.member || null,
      offset: a.offset,
      pieces: a.pieces.map((p) => ({ member: p.member, offset: p.offset, length: p.length, at: p.at })),
      error,
    })),
  };
}

/** The lines `ckpt recover` prints: one table row per file written, then where the manifest is. */
export function recoverSummary(dir: string, manifest: string, written: readonly WrittenArtifact[]): string {
  if (written.length === 0) return `nothing to recover; manifest: ${safe(manifest)}\n`;
  const rows = written.map(({ artifact: a, file, sha256 }) => [
    a.kind,
    a.pid === null ? '' : String(a.pid),
    a.fd === null ? '' : String(a.fd),
    safe(a.path ?? a.peer ?? ''),
    byteSize(a.size),
    sha256.slice(0, 16),
    safe(file),
  ]);
  return `${table(['KIND', 'PID', 'FD', 'ORIGIN', 'SIZE', 'SHA256', 'FILE'], rows, false)}${written.length} files in ${safe(dir)}; manifest: ${safe(manifest)}\n`;
}
