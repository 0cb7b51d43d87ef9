/**
 * Writes a memory dump plan (model/memory/dump.ts) as sparse raw files, one per region: present
 * bytes are written at their offset in the region, absent pages stay holes (the file is sized to
 * the region). Memory stays flat whatever the size: a plain tar is read at offsets in 1 MiB
 * pieces, a compressed one in a single streaming pass whose chunks are written where they belong.
 */
import type { Checkpoint } from '../model/checkpoint.js';
import type { RegionDump } from '../model/memory/dump.js';
import { createAtomicFile, outputPathInside, type AtomicFile, type OutputOptions } from './output.js';
import { CkptError } from '../errors.js';
import { hashFile } from './hash.js';

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

interface Job {
  out: AtomicFile;
  /** Offset of the bytes in the pages file, their length, and where they go in the output. */
  offset: number;
  length: number;
  at: number;
}

/** Writes every region of `plan` into the output directory `root` (already prepared). */
export async function writeMemoryDump(ck: Checkpoint, plan: readonly RegionDump[], root: string, options: OutputOptions): Promise<DumpedRegion[]> {
  const files: { region: RegionDump; out: AtomicFile; present: number; sha256?: string | null }[] = [];
  try {
    if (ck.source.randomAccess) {
      // one region at a time: one file open, one reused buffer
      const buf = new Uint8Array(CHUNK);
      for (const region of plan) {
        const out = await open(root, region, options);
        files.push({ region, out, present: 0 });
        const f = files[files.length - 1]!;
        const base = region.map.region.start;
        // pieces come in address order: the hash is computed as they are written
        const hash = region.size <= HASH_MAX ? ck.sha256() : undefined;
        for (const p of region.pieces) {
          const at = Number(p.at - base);
          if (p.kind === 'bytes') {
            const b = p.bytes.subarray(p.offset, p.offset + p.length);
            await out.writeAt(b, at);
            hash?.update(b);
            f.present += p.length;
          } else if (p.kind === 'file') {
            for (let done = 0; done < p.length; done += CHUNK) {
              const n = Math.min(CHUNK, p.length - done);
              const got = await ck.source.readRange(p.file, p.offset + done, n, buf);
              if (got.length < n) throw new CkptError(`pages file is shorter than its pagemap says (needs ${p.offset + p.length} bytes)`, `${ck.label}:${p.file}`, p.offset + done + got.length);
              hash?.update(got);
              await out.writeAt(got, at + done);
            }
            f.present += p.length;
          } else if (hash) hashZeros(hash, p.length);
        }
        f.sha256 = hash ? hash.hex() : null;
        await out.truncate(region.size);
        await out.commit();
      }
    } else {
      // a compressed archive: every region open, one pass over the pages files
      const jobs = new Map<string, Job[]>();
      for (const region of plan) {
        const out = await open(root, region, options);
        const f = { region, out, present: 0 };
        files.push(f);
        const base = region.map.region.start;
        for (const p of region.pieces) {
          const at = Number(p.at - base);
          if (p.kind === 'bytes') await out.writeAt(p.bytes.subarray(p.offset, p.offset + p.length), at);
          else if (p.kind === 'file') {
            let l = jobs.get(p.file);
            if (!l) jobs.set(p.file, (l = []));
            l.push({ out, offset: p.offset, length: p.length, at });
          }
          if (p.kind !== 'missing') f.present += p.length;
        }
      }
      for (const l of jobs.values()) l.sort((a, b) => a.offset - b.offset);
      const done = new Set<string>();
      await ck.source.walk(
        (e) => jobs.has(e.path) && !done.has(e.path),
        async (e, body) => {
          done.add(e.path);
          const l = jobs.get(e.path)!;
          let pos = 0;
          let k = 0;
          for await (const chunk of body) {
            const end = pos + chunk.length;
            while (k < l.length && l[k]!.offset + l[k]!.length <= pos) k++;
            for (let m = k; m < l.length && l[m]!.offset < end; m++) {
              const j = l[m]!;
              const from = Math.max(j.offset, pos);
              const to = Math.min(j.offset + j.length, end);
              // written before the next chunk is asked for: the chunk is still valid
              if (to > from) await j.out.writeAt(chunk.subarray(from - pos, to - pos), j.at + (from - j.offset));
            }
            pos = end;
            if (k >= l.length) break;
          }
          const last = l[l.length - 1]!;
          if (pos < last.offset + last.length) throw new CkptError(`pages file is shorter than its pagemap says (${pos} bytes, needs ${last.offset + last.length})`, `${ck.label}:${e.path}`, pos);
        },
      );
      for (const file of jobs.keys()) if (!done.has(file)) throw new CkptError('pages file named by a pagemap is missing', `${ck.label}:${file}`);
      for (const f of files) {
        await f.out.truncate(f.region.size);
        await f.out.commit();
      }
    }
  } catch (e) {
    for (const f of files) await f.out.abort();
    throw e;
  }
  const out: DumpedRegion[] = [];
  for (const f of files) {
    // the streaming pass wrote out of order: hash what is on disk
    const sha256 = f.sha256 !== undefined ? f.sha256 : f.region.size <= HASH_MAX ? await hashFile(f.out.path) : null;
    out.push({ region: f.region, file: f.region.name, bytesPresent: f.present, sha256 });
  }
  return out;
}

async function open(root: string, region: RegionDump, options: OutputOptions): Promise<AtomicFile> {
  return createAtomicFile(await outputPathInside(root, region.name), { inputs: options.inputs, force: options.force, mode: 0o600 });
}
