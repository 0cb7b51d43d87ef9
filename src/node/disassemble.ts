/**
 * x86-64 disassembly for findings' code evidence, with iced-x86 (the WebAssembly build of the iced
 * disassembler, from npm). Loaded on first use only (it takes ~0.8 s); where it cannot be loaded,
 * evidence is hex only and `disassemblerProblem()` says why in one line.
 */
import { createRequire } from 'node:module';

interface IcedInstruction {
  ip: bigint;
  length: number;
  free(): void;
}
interface Iced {
  Decoder: new (bitness: number, data: Uint8Array, options: number) => { ip: bigint; decodeAll(): IcedInstruction[]; free(): void };
  DecoderOptions: { None: number };
  Formatter: new (syntax: number) => { format(i: IcedInstruction): string; free(): void; hexPrefix: string; hexSuffix: string; uppercaseHex: boolean; leadingZeros: boolean };
  FormatterSyntax: { Gas: number; Intel: number; Nasm: number };
}

let iced: Iced | null | undefined;
let problem: string | undefined;

function load(): Iced | null {
  if (iced !== undefined) return iced;
  try {
    iced = createRequire(import.meta.url)('iced-x86') as Iced;
  } catch (e) {
    problem = `no disassembler (iced-x86 could not be loaded: ${String((e as Error).message).split('\n')[0]}): evidence is hex only`;
    iced = null;
  }
  return iced;
}

/** Why there is no disassembly, once a load was tried and failed; else undefined. */
export function disassemblerProblem(): string | undefined {
  return problem;
}

/** At most this many instructions: a short listing beside the hexdump. */
export const MAX_INSTRUCTIONS = 12;

/**
 * The first instructions of `bytes` at `address` (`0x…  mnemonic operands`, Intel syntax): at
 * most MAX_INSTRUCTIONS, and none from the point where only zero bytes are left.
 */
export async function disassembleX64(bytes: Uint8Array, address: bigint): Promise<string[] | null> {
  const x = load();
  if (!x) return null;
  const d = new x.Decoder(64, bytes, x.DecoderOptions.None);
  d.ip = address;
  const f = new x.Formatter(x.FormatterSyntax.Intel);
  f.hexPrefix = '0x';
  f.hexSuffix = '';
  f.uppercaseHex = false;
  f.leadingZeros = false;
  const out: string[] = [];
  try {
    let used = bytes.length;
    while (used > 0 && bytes[used - 1] === 0) used--;
    for (const i of d.decodeAll()) {
      const off = Number(i.ip - address);
      if (off >= used || out.length >= MAX_INSTRUCTIONS) {
        i.free();
        continue;
      }
      // an instruction cut off by the end of the evidence is not shown
      if (off + i.length <= bytes.length) {
        const text = f.format(i);
        out.push(`0x${i.ip.toString(16)}  ${text}`);
      }
      i.free();
    }
  } finally {
    d.free();
    f.free();
  }
  return out;
}
