/**
 * Writes a checkpoint's artifacts (model/evidence.ts) to files under an output directory, each
 * through output.ts (atomic, never over the input, never outside the directory), hashing and
 * counting what it writes, and checking the count against the size CRIU's images give.
 */
import type { Checkpoint } from '../model/checkpoint.js';
import { artifactBytes, type Artifact } from '../model/evidence.js';
import { createAtomicFile, outputPathInside, prepareOutputDir, type OutputOptions } from './output.js';

export interface RecoveredArtifact {
  artifact: Artifact;
  /** The file written, relative to the output directory. */
  file: string;
  /** SHA-256 and length of the bytes written. */
  sha256: string;
  written: number;
  /** Set when the bytes written do not match the size in CRIU's images (the file is still written). */
  error: string | null;
}

/** Writes every artifact under `dir` (created; non-empty only with `force`). */
export async function writeArtifacts(ck: Checkpoint, artifacts: readonly Artifact[], dir: string, options: OutputOptions & { inputs: readonly string[] }): Promise<{ dir: string; recovered: RecoveredArtifact[] }> {
  const root = await prepareOutputDir(dir, options);
  const recovered: RecoveredArtifact[] = [];
  for (const a of artifacts) {
    const target = await outputPathInside(root, a.name);
    const file = await createAtomicFile(target, { inputs: options.inputs, force: options.force, mode: 0o600 });
    const hash = ck.sha256();
    try {
      for await (const chunk of artifactBytes(ck, a)) {
        hash.update(chunk);
        await file.write(chunk.slice());
      }
      await file.commit();
    } catch (e) {
      await file.abort();
      throw e;
    }
    const written = file.size;
    const error = written === a.size ? null : `size mismatch: CRIU's images say ${a.size} bytes, the checkpoint holds ${written}`;
    recovered.push({ artifact: a, file: a.name, sha256: hash.hex(), written, error });
  }
  return { dir: root, recovered };
}
