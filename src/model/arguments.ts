/**
 * argv and environment of processes, read from their memory: mm-<pid>.img gives the areas
 * (mm_arg_start..mm_arg_end, mm_env_start..mm_env_end), the memory model (src/model/memory)
 * finds the pages holding them. All reads go in one batch: positioned reads of just those pages
 * on an uncompressed archive or a directory, one streaming pass on a compressed one.
 */
import { CheckpointMemory } from './memory/index.js';
import type { ImageSet } from './image-set.js';
import type { ProcessArguments } from './types.js';

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
