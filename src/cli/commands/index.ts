import type { CommandModule } from 'yargs';
import { decodeCommand } from './decode.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [decodeCommand];
