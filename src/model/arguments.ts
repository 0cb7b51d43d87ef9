/**
 * argv and environment of processes, read from their memory through the memory model
 * (src/model/memory). Placeholder until that API lands.
 */
import type { ImageSet } from './image-set.js';
import type { ProcessArguments } from './types.js';

export async function readProcessArguments(_images: ImageSet, _pids: number[]): Promise<Map<number, ProcessArguments>> {
  return new Map();
}
