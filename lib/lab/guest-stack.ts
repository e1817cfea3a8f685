/**
 * The guest's call stack, symbolised the way the seed's author did it: take the words Xen printed
 * in "Guest stack trace from rsp=...", keep those that fall inside kernel functions, and name them
 * with the kernel's symbol table. The faulting RIP comes first (marked as such).
 */
import type { SymbolTable } from '../linux/symbols';

export interface StackFrame {
  /** 16 hex digits */
  address: string;
  symbol: string;
  offset: number;
  /** true for the RIP line (the seed marks it with "<--") */
  isRip: boolean;
}

const ripLine = /RIP:\s+[0-9a-f]{4}:\[<([0-9a-f]{16})>\]/;
const stackWordsLine = /^\(XEN\)\s{4}((?:\s?[0-9a-f]{16})+)\s*$/;

/** Symbolises the RIP and the stack words of a Xen crash dump. */
export function stackFromXenConsole(lines: readonly string[], symbols: SymbolTable): StackFrame[] {
  const frames: StackFrame[] = [];
  const add = (hex: string, isRip: boolean): void => {
    const value = BigInt(`0x${hex}`);
    if (value >> 48n !== 0xffffn) return;
    const s = symbols.lookup(Number(value & 0xffffffffffffn));
    if (s !== null) frames.push({ address: hex, symbol: s.symbol, offset: s.offset, isRip });
  };
  let inStack = false;
  for (const line of lines) {
    const rip = ripLine.exec(line);
    if (rip !== null) add(rip[1], true);
    if (line.includes('Guest stack trace from rsp=')) { inStack = true; continue; }
    if (inStack) {
      const m = stackWordsLine.exec(line);
      if (m === null) { inStack = false; continue; }
      for (const word of m[1].trim().split(/\s+/)) add(word, false);
    }
  }
  return frames;
}

/** "[<address>] symbol+0xoffset", with " <--" on the RIP's frame: one frame as the seed prints it. */
export function formatFrame(f: StackFrame): string {
  return `[<${f.address}>] ${f.symbol}+0x${f.offset.toString(16)}${f.isRip ? ' <--' : ''}`;
}
