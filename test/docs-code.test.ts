/**
 * Issue 15, "The library tells the truth": every ```ts code block of README.md and docs/*.md is
 * type-checked against the package entries (`@ckpt/core`, `@ckpt/core/core`: the built
 * declarations in dist/, as a user of the package gets them) with the TypeScript compiler (tsc on
 * a temporary project). A block that is not TypeScript must use another fence (```text, ```sh).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

interface Block {
  doc: string;
  line: number;
  code: string;
}

/** The ```ts / ```typescript blocks of a Markdown file, with the line each starts on. */
export function tsBlocks(doc: string, text: string): Block[] {
  const out: Block[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*```(ts|typescript)\s*$/.test(lines[i]!)) continue;
    const start = i + 1;
    let j = start;
    while (j < lines.length && !/^\s*```\s*$/.test(lines[j]!)) j++;
    out.push({ doc, line: start + 1, code: lines.slice(start, j).join('\n') });
    i = j;
  }
  return out;
}

const docs = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const blocks = docs.flatMap((d) => tsBlocks(d, readFileSync(join(ROOT, d), 'utf8')));
const dir = mkdtempSync(join(tmpdir(), 'ckpt-docs-ts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Type-checks files (name -> code) as ES modules importing the package; returns tsc's output. */
function typecheck(files: Record<string, string>): { code: number; output: string } {
  for (const [name, code] of Object.entries(files)) writeFileSync(join(dir, name), `${code}\nexport {};\n`);
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      lib: ['ES2022', 'DOM'],
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
      typeRoots: [join(ROOT, 'node_modules', '@types')],
      paths: {
        '@ckpt/core': [join(ROOT, 'dist', 'node', 'index.d.ts')],
        '@ckpt/core/core': [join(ROOT, 'dist', 'index.d.ts')],
      },
    },
    files: Object.keys(files),
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8', cwd: dir });
  return { code: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

describe('the TypeScript code blocks of the documentation compile against the package', () => {
  it('there are blocks to check (README.md, docs/api.md, docs/memory.md)', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    for (const d of ['README.md', 'docs/api.md', 'docs/memory.md']) expect(blocks.some((b) => b.doc === d), d).toBe(true);
  });

  it('a wrong block is caught (the check can fail)', () => {
    const r = typecheck({ 'wrong.mts': "import { openCheckpointFile } from '@ckpt/core';\nconst ck = await openCheckpointFile('x.tar');\nck.memory().forPid(1);" });
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/forPid/);
  });

  it('every block type-checks', () => {
    const files: Record<string, string> = {};
    const where = new Map<string, Block>();
    blocks.forEach((b, i) => {
      const name = `block-${i}.mts`;
      files[name] = b.code;
      where.set(name, b);
    });
    const r = typecheck(files);
    // name each failing block by its document and line
    const named = r.output.replace(/block-(\d+)\.mts/g, (m) => {
      const b = where.get(m)!;
      return `${b.doc} (block at line ${b.line})`;
    });
    expect(named).toBe('');
    expect(r.code).toBe(0);
  });
});
