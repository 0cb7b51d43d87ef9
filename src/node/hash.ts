/** Node's native SHA-256 behind the runtime-neutral `Sha256Factory` (src/source/hash.ts). */
import { createHash } from 'node:crypto';
import type { Sha256Factory } from '../source/hash.js';

export const nodeSha256: Sha256Factory = () => {
  const h = createHash('sha256');
  return {
    update: (bytes) => void h.update(bytes),
    hex: () => h.digest('hex'),
  };
};
