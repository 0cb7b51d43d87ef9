/**
 * A process's memory from its lowest address to its highest, for a hexdump (memparse --pid): each region, then its
 * runs, either bytes (streamed in chunks: one pass on a compressed archive) or a run that is not in
 * the checkpoint (not dumped, lazy, in a parent checkpoint...).
 */
import type { MemoryRegion, MemoryRun, ProcessMemory } from './checkpoint-memory.js';

export type MemoryWalkItem =
  | { kind: 'region'; region: MemoryRegion }
  /** A run of the region whose bytes are not in the checkpoint. */
  | { kind: 'missing'; run: MemoryRun }
  /** Bytes at `address`; valid until the next item is asked for (copy what you keep). */
  | { kind: 'bytes'; address: bigint; bytes: Uint8Array };

/**
 * Every region of `proc` in address order with its runs. Each chunk of bytes is at most
 * `chunkSize` bytes (default 1 MiB) and is read when asked for, so memory stays flat and stopping
 * the iteration stops the reading.
 */
export async function* walkMemory(proc: ProcessMemory, options: { chunkSize?: number } = {}): AsyncGenerator<MemoryWalkItem> {
  const plan = proc.regions().map((r) => ({ region: r, runs: proc.layout(r.start, r.end) }));
  const present = plan.flatMap((p) => p.runs.filter((r) => r.present));
  const chunks = proc.stream(present, { chunkSize: options.chunkSize ?? 1 << 20 })[Symbol.asyncIterator]();
  try {
    for (const { region, runs } of plan) {
      yield { kind: 'region', region };
      for (const run of runs) {
        if (!run.present) {
          yield { kind: 'missing', run };
          continue;
        }
        for (let at = run.start; at < run.end; ) {
          const c = await chunks.next();
          if (c.done) return;
          yield { kind: 'bytes', address: c.value.address, bytes: c.value.bytes };
          at = c.value.address + BigInt(c.value.bytes.length);
        }
      }
    }
  } finally {
    await chunks.return?.();
  }
}
