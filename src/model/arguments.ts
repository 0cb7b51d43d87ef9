/**
 * argv and environment of processes, read from their memory: mm-<pid>.img gives the areas
 * (mm_arg_start..mm_arg_end, mm_env_start..mm_env_end), the memory model (src/model/memory)
 * finds the pages holding them. All reads go in one batch: positioned reads of just those pages
 * on an uncompressed archive or a directory, one streaming pass on a compressed one.
 */
import { CheckpointMemory, isPagesFile } from './memory/index.js';
import type { AlsoRead, ImageSet } from './image-set.js';
import type { ProcessArguments } from './types.js';
import type { SourceEntry } from '../source/types.js';

/** Longest argument or environment area read (the kernel's limit is far below for one exec). */
const MAX_AREA = 4 << 20;

/** NUL-separated strings; trailing NULs (the terminator, zeroed tail) are not strings. */
export function splitNul(bytes: Uint8Array): string[] {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  if (end === 0) return [];
  const dec = new TextDecoder('utf-8', { fatal: false });
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i <= end; i++) {
    if (i === end || bytes[i] === 0) {
      out.push(dec.decode(bytes.subarray(start, i)));
      start = i + 1;
    }
  }
  return out;
}

function area(start: bigint | undefined, end: bigint | undefined): { address: bigint; length: number } {
  if (start === undefined || end === undefined || end <= start) return { address: 0n, length: 0 };
  const len = end - start;
  return { address: start, length: len > BigInt(MAX_AREA) ? MAX_AREA : Number(len) };
}

/**
 * Reads argv and environment of `pids` (processes without memory, such as zombies, are left
 * out). `memory` may be given to reuse an already built memory model.
 */
export async function readProcessArguments(images: ImageSet, pids: number[], memory?: CheckpointMemory): Promise<Map<number, ProcessArguments>> {
  const mem = memory ?? CheckpointMemory.fromImages(images);
  const jobs: { pid: number; arg: { address: bigint; length: number }; env: { address: bigint; length: number } }[] = [];
  for (const pid of pids) {
    if (!mem.has(pid)) continue;
    const mm = mem.forPid(pid).mm;
    if (!mm) continue;
    jobs.push({ pid, arg: area(mm.mm_arg_start, mm.mm_arg_end), env: area(mm.mm_env_start, mm.mm_env_end) });
  }
  const requests = jobs.flatMap((j) => [
    { pid: j.pid, ...j.arg },
    { pid: j.pid, ...j.env },
  ]);
  const results = await mem.readMany(requests.filter((r) => r.length > 0));
  const out = new Map<number, ProcessArguments>();
  let k = 0;
  for (const j of jobs) {
    const argv = j.arg.length > 0 ? splitNul(results[k++]!.bytes) : [];
    const environment = j.env.length > 0 ? splitNul(results[k++]!.bytes) : [];
    out.set(j.pid, { argv, environment });
  }
  return out;
}

/**
 * argv and environment read in the pass that reads the images (`Checkpoint.open` with
 * `arguments`), so that a compressed archive is decompressed once for `inspect --ps-tree-cmd`:
 * when the first pages file comes by, the memory model of the images read so far (in a Podman
 * archive `mm-*` and `pagemap-*` precede `pages-*`) says which bytes of which pages files hold
 * each process's areas, and those bytes are copied as the pages files stream by. `result` is
 * undefined when the archive's order did not allow it (an image after the pages it describes):
 * the caller then reads them the usual way.
 */
export class ArgumentsInPass implements AlsoRead {
  private planned = false;
  private readonly jobs: { pid: number; arg: Uint8Array; env: Uint8Array }[] = [];
  /** Per pages file: pieces (offset in the file, length) and where their bytes go. */
  private readonly byFile = new Map<string, { offset: number; length: number; dest: Uint8Array; at: number }[]>();
  private readonly visited = new Set<string>();

  want(e: SourceEntry): boolean {
    return isPagesFile(e.path);
  }

  async visit(e: SourceEntry, body: AsyncIterable<Uint8Array>, imagesSoFar: () => ImageSet): Promise<void> {
    if (!this.planned) this.plan(imagesSoFar());
    const pieces = this.byFile.get(e.path);
    this.visited.add(e.path);
    if (!pieces) return;
    let pos = 0;
    for await (const chunk of body) {
      const end = pos + chunk.length;
      for (const p of pieces) {
        const a = Math.max(p.offset, pos);
        const b = Math.min(p.offset + p.length, end);
        if (b > a) p.dest.set(chunk.subarray(a - pos, b - pos), p.at + (a - p.offset));
      }
      pos = end;
      if (pieces.every((p) => p.offset + p.length <= pos)) break;
    }
  }

  private plan(images: ImageSet): void {
    this.planned = true;
    const mem = CheckpointMemory.fromImages(images);
    for (const pid of mem.pids()) {
      const mm = mem.forPid(pid).mm;
      if (!mm) continue;
      const job = { pid, arg: new Uint8Array(0), env: new Uint8Array(0) };
      for (const which of ['arg', 'env'] as const) {
        const a = which === 'arg' ? area(mm.mm_arg_start, mm.mm_arg_end) : area(mm.mm_env_start, mm.mm_env_end);
        const dest = new Uint8Array(a.length);
        job[which] = dest;
        if (a.length === 0) continue;
        for (const p of mem.locate(pid, a.address, a.length)) {
          const at = Number(p.at - a.address);
          if (p.kind === 'bytes') dest.set(p.bytes.subarray(p.offset, p.offset + p.length), at);
          else if (p.kind === 'file') {
            let l = this.byFile.get(p.file);
            if (!l) this.byFile.set(p.file, (l = []));
            l.push({ offset: p.offset, length: p.length, dest, at });
          }
        }
      }
      this.jobs.push(job);
    }
  }

  /**
   * The arguments of every process with a memory map, when the pass could read them all: every
   * pages file they need came by, and no process's images came after the first pages file.
   */
  result(images: ImageSet): Map<number, ProcessArguments> | undefined {
    if (!this.planned) return undefined;
    for (const f of this.byFile.keys()) if (!this.visited.has(f)) return undefined;
    const planned = new Set(this.jobs.map((j) => j.pid));
    const all = CheckpointMemory.fromImages(images);
    for (const pid of all.pids()) if (all.forPid(pid).mm && !planned.has(pid)) return undefined;
    return new Map(this.jobs.map((j) => [j.pid, { argv: splitNul(j.arg), environment: splitNul(j.env) }]));
  }
}
