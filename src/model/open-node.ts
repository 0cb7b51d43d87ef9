/**
 * `openCheckpoint` for Node: takes a path (archive of any compression, extracted checkpoint
 * directory, bare CRIU image directory) or an already opened source.
 */
import { openSource, type OpenSourceOptions } from '../source/node.js';
import type { CheckpointSource } from '../source/types.js';
import { Checkpoint, type OpenCheckpointOptions } from './checkpoint.js';

/**
 * Opens a checkpoint. A path is opened with `openSource` (and closed again if it is not a
 * checkpoint); call `close()` on the result when done.
 */
export async function openCheckpoint(pathOrSource: string | CheckpointSource, options?: OpenSourceOptions & OpenCheckpointOptions): Promise<Checkpoint> {
  if (typeof pathOrSource !== 'string') return Checkpoint.open(pathOrSource, options);
  const source = await openSource(pathOrSource, options);
  try {
    return await Checkpoint.open(source, options);
  } catch (e) {
    await source.close();
    throw e;
  }
}
