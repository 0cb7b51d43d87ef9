/**
 * The one error type the library throws for bad input. Its message is a single line that names
 * the file (archive member or path) and, where known, the byte offset at which the problem was
 * found. The CLI prints `ckpt: <message>` and exits 1 for it; anything else is a bug.
 */
export class CkptError extends Error {
  override readonly name = 'CkptError';
  constructor(
    /** One-line description of the problem, without the file and offset. */
    readonly reason: string,
    /** The file the problem is in: an archive member such as `checkpoint/core-1.img`, or a path. */
    readonly file?: string,
    /** Byte offset inside `file` at which the problem was found. */
    readonly offset?: number,
  ) {
    super(CkptError.format(reason, file, offset));
  }

  static format(reason: string, file?: string, offset?: number): string {
    const where = file === undefined ? '' : offset === undefined ? `${file}: ` : `${file} at byte ${offset}: `;
    return `${where}${reason}`.replace(/\s*\n\s*/g, ' ');
  }

  /** The same error, said of a file inside `outer` (e.g. an archive member inside a tar path). */
  within(outer: string): CkptError {
    return new CkptError(this.reason, this.file === undefined ? outer : `${outer}:${this.file}`, this.offset);
  }
}

export function isCkptError(e: unknown): e is CkptError {
  return e instanceof CkptError;
}
