import type { CommandModule } from 'yargs';
import { join } from 'node:path';
import {
  CkptError,
  hashFile,
  memdumpManifest,
  memdumpSummary,
  openCheckpointFile as openCheckpoint,
  parseAddressFilter,
  planMemoryDump,
  prepareOutputDir,
  writeAtomically,
  writeMemoryDump,
  jsonText,
} from '../../node/index.js';
import { out, warnProblems } from '../io.js';
import { UsageError } from '../usage-error.js';

interface MemdumpArgs {
  checkpoint: string;
  pid: number;
  'output-dir': string;
  address?: string;
  force: boolean;
}

export const memdumpCommand: CommandModule<object, MemdumpArgs> = {
  command: 'memdump <checkpoint>',
  describe: "Write a process's memory as raw files, one per region (absent pages are holes), with maps.json",
  builder: (y) =>
    y
      .positional('checkpoint', { type: 'string', demandOption: true, describe: 'checkpoint archive (.tar, gzip or zstd) or checkpoint directory' })
      .option('pid', { alias: 'p', type: 'number', demandOption: true, describe: 'the process' })
      .option('output-dir', { alias: 'o', type: 'string', demandOption: true, describe: 'directory for the raw files and maps.json (created; non-empty needs --force)' })
      .option('address', { type: 'string', describe: 'only the region holding this address (hex, e.g. 0x7f23c9858100)' })
      .option('force', { type: 'boolean', default: false, describe: 'write into a non-empty directory, replacing files' })
      .example('$0 memdump checkpoint.tar --pid 1 --output-dir mem/', 'every region of pid 1')
      .example('$0 memdump checkpoint.tar --pid 1 -o mem/ --address 0x7f23c9858100', 'the region holding that address'),
  handler: async (args) => {
    if (!Number.isInteger(args.pid) || args.pid < 0) throw new UsageError(`--pid must be a process id, not ${String(args.pid)}`);
    let address: bigint | undefined;
    if (args.address !== undefined) {
      if (!/^(0x)?[0-9a-f]+$/i.test(args.address.trim())) throw new UsageError(`--address must be a hex address (e.g. 0x7f23c9858100), not "${args.address}"`);
      address = parseAddressFilter(args.address).start;
    }
    const ck = await openCheckpoint(args.checkpoint);
    try {
      if (!ck.process(args.pid)) throw new UsageError(`no process with pid ${args.pid} in ${ck.label} (pids: ${ck.pids.join(', ')})`);
      const memory = await ck.memory();
      let plan;
      try {
        plan = planMemoryDump(memory, args.pid, { address });
      } catch (e) {
        if (e instanceof CkptError && address !== undefined) throw new UsageError(e.reason);
        throw e;
      }
      const inputs = [args.checkpoint];
      const dir = await prepareOutputDir(args['output-dir'], { force: args.force, inputs });
      const dumped = await writeMemoryDump(ck, args.pid, plan, dir, { force: args.force, inputs });
      const manifest = `${dir}/maps.json`;
      const archiveSha256 = await hashFile(args.checkpoint);
      await writeAtomically(manifest, { inputs, force: args.force }, async (f) => {
        await f.write(`${jsonText(memdumpManifest(args.checkpoint, archiveSha256, args.pid, memory.comm(args.pid) ?? null, address ?? null, dumped), 2)}\n`);
      });
      await out(memdumpSummary(args['output-dir'], join(args['output-dir'], 'maps.json'), dumped));
      warnProblems(ck.problems);
    } finally {
      await ck.close();
    }
  },
};
