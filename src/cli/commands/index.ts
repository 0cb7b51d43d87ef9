import type { CommandModule } from 'yargs';
import { decodeCommand } from './decode.js';
import { showCommand } from './show.js';
import { inspectCommand } from './inspect.js';
import { listCommand } from './list.js';
import { memparseCommand } from './memparse.js';
import { diffCommand } from './diff.js';
import { coredumpCommand } from './coredump.js';
import { buildCommand } from './build.js';
import { rootfsCommand } from './rootfs.js';
import { recoverCommand } from './recover.js';
import { memdumpCommand } from './memdump.js';
import { pluginCommand, builtinNames } from './plugin.js';
import { completionCommand } from './completion.js';
import { findingsCommand } from './findings.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [decodeCommand, showCommand, inspectCommand, listCommand, memparseCommand, diffCommand, coredumpCommand, buildCommand, rootfsCommand, recoverCommand, memdumpCommand, findingsCommand, pluginCommand, completionCommand];
builtinNames.push(...commands.map((c) => String(c.command).split(' ')[0]!));
