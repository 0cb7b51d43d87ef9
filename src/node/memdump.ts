/**
 * Writes a memory dump plan (model/memory/dump.ts) as sparse raw files, one per region: the bytes
 * in the checkpoint are written at their offset in the region, absent pages stay holes (the file
 * is sized to the region). The bytes come from the memory model's `stream` (flat memory whatever
 * the size: a plain tar is read at offsets, a compressed one in as few streaming passes as the
 * pages' order allows), region by region in address order, so one file is open at a time and its
 * SHA-256 is computed as it is written.
 */
import type { Checkpoint } from '../model/checkpoint.js';
import type { RegionDump } from '../model/memory/dump.js';
import { createAtomicFile, outputPathInside, type AtomicFile, type OutputOptions } from './output.js';

const CHUNK = 1 << 20;

export interface DumpedRegion {
  region: RegionDump;
  /** File name relative to the output directory. */
  file: string;
  /** Bytes with data written (the rest are holes). */
  bytesPresent: number;
  /** SHA-256 of the whole file as it reads (holes as zeros); null for a region over 16 GiB (a reservation, mostly holes). */
  sha256: string | null;
}

/** Regions larger than this are not hashed: hashing reads every byte of the holes as zeros. */
const HASH_MAX = 16 * 2 ** 30;
const ZEROS = new Uint8Array(CHUNK);

function hashZeros(h: { update(b: Uint8Array): void }, n: number): void {
  for (let left = n; left > 0; left -= CHUNK) h.update(ZEROS.subarray(0, Math.min(CHUNK, left)));
}

/** Writes every region of `plan` (regions of process `pid`, in address order) into the output directory `root` (already prepared). */
export async function writeMemoryDump(ck: Checkpoint, pid: number, plan: readonly RegionDump[], root: string, options: OutputOptions): Promise<DumpedRegion[]> {
  const regions = [...plan].sort((a, b) => (a.map.region.start < b.map.region.start ? -1 : 1));
  const chunks = (await ck.memory()).forPid(pid).stream(regions.map((r) => ({ start: r.map.region.start, end: r.map.region.end })), { chunkSize: CHUNK });
  const it = chunks[Symbol.asyncIterator]();
  let next = await it.next();
  const out: DumpedRegion[] = [];
  for (const region of regions) {
    const { start, end } = region.map.region;
    const file: AtomicFile = await createAtomicFile(await outputPathInside(root, region.name), { inputs: options.inputs, force: options.force, mode: 0o600 });
    const hash = region.size <= HASH_MAX ? ck.sha256() : undefined;
    let pos = 0;
    let present = 0;
    try {
      // the chunks of this region: present bytes only, in address order
      while (!next.done && next.value.address < end) {
        const { address, bytes } = next.value;
        const at = Number(address - start);
        if (hash && at > pos) hashZeros(hash, at - pos);
        hash?.update(bytes);
        await file.writeAt(bytes, at); // written before the next chunk is asked for: the chunk is still valid
        pos = at + bytes.length;
        present += bytes.length;
        next = await it.next();
      }
      if (hash && region.size > pos) hashZeros(hash, region.size - pos);
      await file.truncate(region.size);
      await file.commit();
    } catch (e) {
      await file.abort();
      await it.return?.();
      throw e;
    }
    out.push({ region, file: region.name, bytesPresent: present, sha256: hash ? hash.hex() : null });
  }
  return out;
}
