/**
 * Node only: gzip and zstd decompression in a worker thread, into a ring of shared buffers.
 *
 * Why: node:zlib's stream API decompresses one output chunk at a time on the thread pool and
 * waits for the main thread between chunks, allocates a fresh buffer per chunk, and (for gzip)
 * computes the CRC-32 on the inflating thread. On a 1.07 GiB checkpoint that costs about 2 s,
 * more than the 2 s per GiB the search may take in all. Here a worker runs the decompressor in a
 * tight synchronous loop straight into a ring of shared 1 MiB slots and never waits for the main
 * thread unless the ring is full; the main thread copies each slot into one reused buffer (no
 * allocation), gives the slot back, checks gzip's CRC-32 and size with `zlib.crc32` and lends
 * the buffer to the consumer until it asks for the next chunk: the CheckpointSource contract
 * (types.ts).
 * Measured: 1.45-1.6 s for the same file, with the search overlapping on the main thread.
 *
 * The worker drives the zlib handle that node:zlib's own synchronous functions use
 * (`_handle.writeSync` with `_writeState`). It is not documented, so `canDecompressInWorker`
 * checks it is there (Node 20 to 24 have it) and the caller falls back to the stream API when
 * it is not.
 *
 * gzip: the worker parses each member's header (RFC 1952: FEXTRA, FNAME, FCOMMENT, FHCRC),
 * inflates the raw deflate data and reads the trailer; concatenated members are read in turn;
 * zero bytes after the last member are ignored, as gzip and Node do. zstd: libzstd reads
 * consecutive frames and checks their checksums itself; truncation shows at the final flush.
 */
import { Worker } from 'node:worker_threads';
import * as zlib from 'node:zlib';
import { CkptError } from '../errors.js';

export interface WorkerRing {
  /** Bytes per slot (default 1 MiB); tests use small odd sizes so that slots are reused often. */
  slotSize?: number;
  /** Slots in the ring (default 8, at least 2). */
  slots?: number;
}

// ctrl (Int32Array) indexes
const WRITTEN = 0; // slots published by the worker
const READ = 1; // slots released by the main thread
const STATE = 2; // RUNNING, DONE, FAILED
const CANCEL = 3; // set by the main thread to stop the worker
const RUNNING = 0;
const DONE = 1;
const FAILED = 2;
// meta (Float64Array), per slot
const META = 5; // length, member end flag, CRC-32, ISIZE, offset of the trailer in the file

// The worker's code: a string, so that it runs from dist/ and from the TypeScript sources alike.
const WORKER_CODE = `
const { workerData, parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const zlib = require('node:zlib');
const { file, format, ring, ctrlBuf, metaBuf, SLOT, SLOTS, META } = workerData;
const ctrl = new Int32Array(ctrlBuf);
const meta = new Float64Array(metaBuf);
const WRITTEN = 0, READ = 1, STATE = 2, CANCEL = 3;

class Failure { constructor(reason, offset) { this.reason = reason; this.offset = offset; } }
class Cancelled {}

const IN = 1 << 20;
const inb = Buffer.allocUnsafe(IN);
let inStart = 0, inEnd = 0, filePos = 0, fd = -1;
/** The offset in the file of inb[i]. */
const offsetOf = (i) => filePos - (inEnd - i);
/** Reads more input (after moving what is left to the front); false at the end of the file. */
function fill() {
  if (inStart > 0) { inb.copy(inb, 0, inStart, inEnd); inEnd -= inStart; inStart = 0; }
  if (inEnd === IN) return true;
  const n = fs.readSync(fd, inb, inEnd, IN - inEnd, filePos);
  filePos += n; inEnd += n;
  return n > 0;
}
/** At least k bytes of input from inStart; false at the end of the file (or when k > IN). */
function need(k) {
  if (k > IN) return false;
  while (inEnd - inStart < k) if (!fill()) return false;
  return true;
}

let written = 0, slotOff = 0;
let out = Buffer.from(ring, 0, SLOT);
function publish(memberEnd, crc, isize, trailerAt) {
  const m = (written % SLOTS) * META;
  meta[m] = slotOff; meta[m + 1] = memberEnd ? 1 : 0; meta[m + 2] = crc; meta[m + 3] = isize; meta[m + 4] = trailerAt;
  written++;
  Atomics.store(ctrl, WRITTEN, written);
  Atomics.notify(ctrl, WRITTEN);
  for (;;) {
    if (Atomics.load(ctrl, CANCEL)) throw new Cancelled();
    const read = Atomics.load(ctrl, READ);
    if (written - read < SLOTS) break;
    Atomics.wait(ctrl, READ, read, 1000);
  }
  out = Buffer.from(ring, (written % SLOTS) * SLOT, SLOT);
  slotOff = 0;
}

let zerr;
function handleOf(z) {
  const h = z._handle;
  h.onerror = (message, errno) => { zerr = message + (errno !== undefined ? ' (' + errno + ')' : ''); };
  return { h, ws: z._writeState };
}

/** One call into the decompressor; returns [input consumed, output produced]. */
function step(d, flush, inLen) {
  const room = SLOT - slotOff;
  d.h.writeSync(flush, inb, inStart, inLen, out, slotOff, room);
  if (zerr !== undefined) throw new Failure(zerr, offsetOf(inStart));
  const produced = room - d.ws[0];
  const consumed = inLen - d.ws[1];
  slotOff += produced;
  inStart += consumed;
  return [consumed, produced];
}

function gzipHeader() {
  const at = offsetOf(inStart);
  if (!need(10)) throw new Failure('truncated gzip header', at);
  const b = inb, s = inStart;
  if (b[s] !== 0x1f || b[s + 1] !== 0x8b) throw new Failure('not a gzip member (bad magic)', at);
  if (b[s + 2] !== 8) throw new Failure('unknown gzip compression method ' + b[s + 2], at + 2);
  const flg = b[s + 3];
  if (flg & 0xe0) throw new Failure('reserved gzip header flags set', at + 3);
  let n = 10;
  if (flg & 4) {
    if (!need(n + 2)) throw new Failure('truncated gzip header', at);
    n += 2 + inb.readUInt16LE(inStart + n);
  }
  for (const bit of [8, 16]) {
    if (!(flg & bit)) continue;
    for (;;) {
      if (!need(n + 1)) throw new Failure(n + 1 > IN ? 'gzip header too long' : 'truncated gzip header', at);
      if (inb[inStart + n++] === 0) break;
    }
  }
  if (flg & 2) n += 2;
  if (!need(n)) throw new Failure('truncated gzip header', at);
  inStart += n;
}

function gzip() {
  const z = zlib.createInflateRaw();
  const d = handleOf(z);
  let members = 0;
  for (;;) {
    if (inStart === inEnd && !fill()) {
      if (members === 0) throw new Failure('empty gzip file', 0);
      return;
    }
    if (members > 0 && inb[inStart] === 0) return; // zero padding after the last member
    gzipHeader();
    if (members > 0) z.reset();
    for (;;) {
      if (inStart === inEnd && !fill()) throw new Failure('unexpected end of file: truncated gzip data', filePos);
      const inLen = inEnd - inStart;
      const [consumed] = step(d, zlib.constants.Z_NO_FLUSH, inLen);
      if (slotOff === SLOT) { publish(false, 0, 0, 0); continue; }
      // room for output and input left over: inflate stopped at the end of the deflate data
      if (consumed < inLen) break;
    }
    const trailerAt = offsetOf(inStart);
    if (!need(8)) throw new Failure('unexpected end of file: truncated gzip trailer', trailerAt);
    const crc = inb.readUInt32LE(inStart), isize = inb.readUInt32LE(inStart + 4);
    inStart += 8;
    publish(true, crc, isize, trailerAt);
    members++;
  }
}

function zstd() {
  const z = zlib.createZstdDecompress();
  const d = handleOf(z);
  for (;;) {
    if (inStart === inEnd && !fill()) break;
    const inLen = inEnd - inStart;
    const [consumed, produced] = step(d, 0, inLen);
    if (slotOff === SLOT) { publish(false, 0, 0, 0); continue; }
    if (consumed === 0 && produced === 0) throw new Failure('zstd decoder made no progress', offsetOf(inStart));
  }
  // the end of the input: libzstd says whether a frame was left unfinished
  for (;;) {
    const [, produced] = step(d, 2 /* ZSTD_e_end */, 0);
    if (slotOff === SLOT) { publish(false, 0, 0, 0); continue; }
    if (produced === 0) break;
  }
}

try {
  fd = fs.openSync(file, 'r');
  if (format === 'gzip') gzip(); else zstd();
  if (slotOff > 0) publish(false, 0, 0, 0);
  Atomics.store(ctrl, STATE, 1);
} catch (e) {
  if (!(e instanceof Cancelled)) {
    // a Failure is bad data; anything else is the file system (open, read)
    const io = !(e instanceof Failure);
    const f = io ? new Failure(e && e.code || (e && e.message) || String(e), filePos) : e;
    // what was decompressed before the damage is handed over first (a copy cut short: salvage)
    if (!io && slotOff > 0) {
      try { publish(false, 0, 0, 0); } catch { /* cancelled: nobody reads it */ }
    }
    parentPort.postMessage({ reason: f.reason, offset: f.offset, io });
    Atomics.store(ctrl, STATE, 2);
  }
} finally {
  if (fd >= 0) fs.closeSync(fd);
  Atomics.notify(ctrl, WRITTEN);
}
`;

let support: Partial<Record<'gzip' | 'zstd', boolean>> = {};

/** True when this runtime has what the worker needs (the zlib handle API; zlib.crc32 for gzip). */
export function canDecompressInWorker(format: 'gzip' | 'zstd'): boolean {
  const known = support[format];
  if (known !== undefined) return known;
  let ok = false;
  try {
    const z = zlib as unknown as { crc32?: unknown; createZstdDecompress?: () => zlib.Gunzip };
    const d = format === 'gzip' ? (typeof z.crc32 === 'function' ? zlib.createInflateRaw() : undefined) : z.createZstdDecompress?.();
    if (d) {
      const internals = d as unknown as { _handle?: { writeSync?: unknown }; _writeState?: unknown };
      ok = typeof internals._handle?.writeSync === 'function' && internals._writeState instanceof Uint32Array;
      d.close();
    }
  } catch {
    ok = false;
  }
  support = { ...support, [format]: ok };
  return ok;
}

/**
 * The decompressed bytes of a gzip or zstd file, chunk by chunk (each chunk valid until the next
 * is asked for: copy what you keep), decompressed in a worker thread. Check `canDecompressInWorker` first. Stopping early (break,
 * return, an exception in the consumer) stops the worker.
 */
export async function* decompressInWorker(file: string, format: 'gzip' | 'zstd', options: WorkerRing = {}): AsyncGenerator<Uint8Array> {
  const SLOT = options.slotSize ?? 1 << 20;
  const SLOTS = options.slots ?? 8;
  if (!Number.isInteger(SLOT) || SLOT < 1 || !Number.isInteger(SLOTS) || SLOTS < 2) throw new RangeError(`bad worker ring: ${SLOTS} slots of ${SLOT} bytes`);
  const ring = new SharedArrayBuffer(SLOT * SLOTS);
  const ctrlBuf = new SharedArrayBuffer(4 * 4);
  const metaBuf = new SharedArrayBuffer(8 * META * SLOTS);
  const ctrl = new Int32Array(ctrlBuf);
  const meta = new Float64Array(metaBuf);
  let failure: { reason: string; offset: number; io: boolean } | undefined;
  let crash: Error | undefined;
  const worker = new Worker(WORKER_CODE, {
    eval: true,
    workerData: { file, format, ring, ctrlBuf, metaBuf, SLOT, SLOTS, META },
    resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 },
    // none of the parent's flags: the code is CommonJS whatever the parent was started with
    // (`node --input-type=module -e`), and V8 flags on its command line (--max-old-space-size,
    // --expose-gc, ...) would make the worker fail to start
    execArgv: [],
  });
  worker.unref();
  const wake = () => {
    if (Atomics.load(ctrl, STATE) === RUNNING) Atomics.store(ctrl, STATE, FAILED);
    Atomics.notify(ctrl, WRITTEN);
  };
  const message = new Promise<void>((resolve) => {
    worker.on('message', (m: { reason: string; offset: number; io: boolean }) => {
      failure = m;
      resolve();
    });
    worker.on('error', (e) => {
      crash = e;
      wake();
      resolve();
    });
    worker.on('exit', () => {
      wake();
      resolve();
    });
  });
  const scratch = new Uint8Array(SLOT);
  let read = 0;
  let crc = 0;
  let isize = 0;
  try {
    for (;;) {
      const written = Atomics.load(ctrl, WRITTEN);
      if (read < written) {
        const m = (read % SLOTS) * META;
        const length = meta[m]!;
        // Copied out of the shared slot into one plain buffer that is lent to the consumer until it
        // asks for the next chunk: V8 copies out of shared memory at about a fifth of memcpy's speed
        // when source and target are not equally aligned (a search window's carried tail), and at
        // full speed here (both at offset 0). The slot goes back to the worker at once.
        const chunk = scratch.subarray(0, length);
        chunk.set(new Uint8Array(ring, (read % SLOTS) * SLOT, length));
        const memberEnd = meta[m + 1] === 1;
        const wantCrc = meta[m + 2]!;
        const wantSize = meta[m + 3]!;
        const trailerAt = meta[m + 4]!;
        read++;
        Atomics.store(ctrl, READ, read);
        Atomics.notify(ctrl, READ);
        if (format === 'gzip') {
          crc = zlib.crc32(chunk, crc);
          isize = (isize + length) % 0x100000000;
          if (memberEnd) {
            if (crc !== wantCrc) throw new CkptError(`corrupt gzip data: CRC-32 of the data is ${hex(crc)}, the trailer says ${hex(wantCrc)}`, file, trailerAt);
            if (isize !== wantSize) throw new CkptError(`corrupt gzip data: ${isize} bytes (mod 2^32) decompressed, the trailer says ${wantSize}`, file, trailerAt + 4);
            crc = 0;
            isize = 0;
          }
        }
        if (length > 0) yield chunk;
        continue;
      }
      const state = Atomics.load(ctrl, STATE);
      if (state === DONE) {
        if (read < Atomics.load(ctrl, WRITTEN)) continue;
        return;
      }
      if (state === FAILED) {
        if (read < Atomics.load(ctrl, WRITTEN)) continue;
        worker.ref();
        await message;
        if (failure?.io) throw new CkptError(`cannot read (${failure.reason})`, file, failure.offset);
        if (failure) throw new CkptError(`corrupt or truncated ${format} data (${failure.reason})`, file, failure.offset);
        throw new CkptError(`${format} decompression failed: ${crash?.message ?? 'the worker stopped'}`, file);
      }
      // The worker keeps the process alive only while this waits for it: a consumer that drops
      // the iterator without closing it must not keep the process from exiting.
      const w = Atomics.waitAsync(ctrl, WRITTEN, written);
      if (w.async) {
        worker.ref();
        await w.value;
        worker.unref();
      }
    }
  } finally {
    Atomics.store(ctrl, CANCEL, 1);
    Atomics.notify(ctrl, READ);
    await worker.terminate();
  }
}

function hex(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}
