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
    // one line, and no byte of the input can drive a terminal: names and quoted input are escaped
    return escapeControl(`${where}${reason}`.replace(/\s*\n\s*/g, ' '));
  }

  /** The same error, said of a file inside `outer` (e.g. an archive member inside a tar path). */
  within(outer: string): CkptError {
    return new CkptError(this.reason, this.file === undefined ? outer : `${outer}:${this.file}`, this.offset);
  }
}

export function isCkptError(e: unknown): e is CkptError {
  return e instanceof CkptError;
}

/**
 * Text safe for a terminal: control characters (C0, DEL, C1) and the Unicode line separators as
 * `\n`, `\t`, `\r`, `\xNN` or `\u{NNNN}`. Used for every text taken from the input (names, paths,
 * argv, environment, error messages) before it is printed (views re-export it as `safe`).
 */
export function escapeControl(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    if (c === '\r') return '\\r';
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}
