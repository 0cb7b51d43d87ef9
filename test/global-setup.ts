import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** The CLI tests run bin/ckpt.js, which loads dist/: build it first (tsc emits even with type errors; `npm test` type-checks). */
export default function setup(): void {
  const root = join(__dirname, '..');
  try {
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'pipe' });
  } catch {
    // type errors are reported by `npm run build`; the emitted JS is still usable
  }
}
