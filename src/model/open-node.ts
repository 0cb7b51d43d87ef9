/**
 * `openCheckpoint` for Node: takes a path (archive of any compression, extracted checkpoint
 * directory, bare CRIU image directory) or an already opened source.
 */
import { openSource, type OpenSourceOptions } from '../source/node.js';
import type { CheckpointSource } from '../source/types.js';
import { Checkpoint, type OpenCheckpointOptions } from './checkpoint.js';
import { nodeSha256 } from '../node/hash.js';

/**
 * Opens a checkpoint. A path is opened with `openSource` (and closed again if it is not a
 * checkpoint); call `close()` on the result when done.
 */
export async function openCheckpoint(pathOrSource: string | CheckpointSource, options?: OpenSourceOptions & OpenCheckpointOptions): Promise<Checkpoint> {
  const opts = { sha256: nodeSha256, ...options };
  if (typeof pathOrSource !== 'string') return Checkpoint.open(pathOrSource, opts);
  const source = await openSource(pathOrSource, opts);
  try {
    return await Checkpoint.open(source, opts);
  } catch (e) {
    await source.close();
    throw e;
  }
}
