/** Messages between the page and its worker (web/src/worker.ts). */

export type SearchMode = 'literal' | 'regex' | 'hex';

/** A search match as the worker posts it (bigints as hex strings, bytes as printable text). */
export interface FoundMatch {
  pid: number | null;
  /** `0x…` */
  address: string | null;
  label: string;
  /** Shared object key, for matches in shared memory. */
  object: string | null;
  file: string;
  fileOffset: number;
  length: number;
  /** The matched bytes, printable ASCII with `.` for the rest (at most 64). */
  text: string;
  /** The matched bytes in hex (at most 32 bytes). */
  hex: string;
}

export type ToWorker =
  | { op: 'zstd'; blob: Blob; label: string }
  | { op: 'ack' }
  | { op: 'search'; blob: Blob; label: string; mode: SearchMode; text: string; ignoreCase: boolean; limit: number };

export type FromWorker =
  | { op: 'chunk'; data: Uint8Array; consumed: number }
  | { op: 'end' }
  | { op: 'progress'; position: number; total: number }
  | { op: 'matches'; items: FoundMatch[]; total: number }
  | { op: 'done'; total: number; bytes: number; ms: number }
  | { op: 'error'; message: string };
