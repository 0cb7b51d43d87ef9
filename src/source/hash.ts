/**
 * SHA-256 for the chain of custody (archive hashes, artifact hashes, root file-system contents),
 * runtime-neutral. Callers take a `Sha256Factory` so that Node can use its native hash
 * (`nodeSha256` in src/node/hash.ts, some 20x faster); the portable one works everywhere.
 */
import { sha256 } from '@noble/hashes/sha2.js';

/** An incremental SHA-256: `update` with each chunk, then `hex` once. */
export interface Sha256 {
  update(bytes: Uint8Array): void;
  /** The digest as 64 lowercase hex digits. */
  hex(): string;
}

export type Sha256Factory = () => Sha256;

/** The pure-JS SHA-256 (any runtime). */
export const portableSha256: Sha256Factory = () => {
  const h = sha256.create();
  return {
    update: (bytes) => void h.update(bytes),
    hex: () => {
      let s = '';
      for (const b of h.digest()) s += b.toString(16).padStart(2, '0');
      return s;
    },
  };
};

/** The SHA-256 of bytes in memory, as hex. */
export function sha256Hex(bytes: Uint8Array, factory: Sha256Factory = portableSha256): string {
  const h = factory();
  h.update(bytes);
  return h.hex();
}
