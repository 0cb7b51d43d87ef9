import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..');
export const fixture = (...p: string[]) => join(ROOT, 'testdata', ...p);
export const hasFixture = (...p: string[]) => existsSync(fixture(...p));

/** A secret the procs workload planted in memory (testdata/facts/procs.json). */
export interface Secret {
  kind: string;
  pid: number;
  addr: string;
  len: number;
  marker: string;
}

/** What the procs workload printed about itself when the fixture was made. */
export interface ProcsFacts {
  container: { env_secret: string };
  secrets: Secret[];
  processes: { pid: number; comm: string; arg_start?: string; arg_end?: string; env_start?: string; env_end?: string }[];
  longargv: { env: string[]; argv_first: string; argv_last: string };
}

export const procsFacts = (): ProcsFacts => JSON.parse(readFileSync(fixture('facts', 'procs.json'), 'utf8')) as ProcsFacts;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a user would (no TTY, NO_COLOR unset unless given). */
export function ckpt(args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'ckpt.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 256 << 20,
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
