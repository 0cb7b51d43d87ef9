/**
 * Views of recovered evidence: the manifest of `ckpt recover` (JSON) and its printed summary.
 * Pure: data in, text or plain JSON out.
 */
import type { Artifact } from '../model/evidence.js';
import type { RegionDump } from '../model/memory/dump.js';
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
  return `${table(['KIND', 'PID', 'FD', 'ORIGIN', 'SIZE', 'SHA256', 'FILE'], rows, false)}${written.length} ${written.length === 1 ? 'file' : 'files'} in ${safe(dir)}; manifest: ${safe(manifest)}\n`;
}

/** What the memdump writer produced for one region (src/node/memdump.ts's DumpedRegion). */
export interface DumpedRegionView {
  region: RegionDump;
  file: string;
  bytesPresent: number;
  sha256: string | null;
}

const hex = (n: bigint) => `0x${n.toString(16)}`;

/** maps.json of `ckpt memdump`: one entry per raw file, stable key order, addresses as "0x…". */
export function memdumpManifest(checkpoint: string, archiveSha256: string | null, pid: number, comm: string | null, address: bigint | null, dumped: readonly DumpedRegionView[]): unknown {
  return {
    kind: 'memdump',
    checkpoint,
    archiveSha256,
    pid,
    comm,
    address: address === null ? null : hex(address),
    regions: dumped.map(({ region: d, file, bytesPresent, sha256 }) => {
      const r = d.map.region;
      return {
        file,
        start: hex(r.start),
        end: hex(r.end),
        size: d.size,
        perms: r.perms,
        prot: r.prot,
        flags: `0x${r.flags.toString(16)}`,
        kind: d.kind,
        label: r.label,
        backing: d.map.backing || null,
        path: r.path ?? null,
        offset: hex(d.map.offset),
        pagesPresent: d.map.pagesPresent,
        pagesAbsent: d.map.pagesAbsent,
        bytesPresent,
        sha256,
        absent: d.pieces.filter((p) => p.kind === 'missing').map((p) => ({ start: hex(p.at), end: hex(p.at + BigInt(p.length)), reason: p.kind === 'missing' ? p.reason : null })),
      };
    }),
  };
}

/** The lines `ckpt memdump` prints: one table row per region file. */
export function memdumpSummary(dir: string, manifest: string, dumped: readonly DumpedRegionView[]): string {
  const rows = dumped.map(({ region: d, file, bytesPresent }) => [
    `${hex(d.map.region.start)}-${hex(d.map.region.end)}`,
    d.map.region.perms,
    d.kind,
    safe(d.map.backing),
    byteSize(d.size),
    byteSize(bytesPresent),
    safe(file),
  ]);
  return `${table(['REGION', 'PERMS', 'KIND', 'BACKING', 'SIZE', 'PRESENT', 'FILE'], rows, false)}${dumped.length} ${dumped.length === 1 ? 'region' : 'regions'} in ${safe(dir)}; maps: ${safe(manifest)}\n`;
}
