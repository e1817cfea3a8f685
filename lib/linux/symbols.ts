/**
 * A kernel's symbol table (System.map as data): function start addresses and sizes, so a word on
 * the stack can be symbolised as `name+0xoff` the way the seed's author did.
 */
import { LabError, describeValue } from '../errors';
import { formatVirtualAddress } from '../x86/address';

export interface SymbolEntry {
  name: string;
  /** start address, bits 47:0 */
  address: number;
  size: number;
}

export interface Symbolised {
  /** the address as 16 hex digits */
  address: string;
  symbol: string;
  offset: number;
  /** "xen_get_user_pgd+0x5a" */
  text: string;
}

export class SymbolTable {
  private readonly byName = new Map<string, SymbolEntry>();
  private readonly sorted: SymbolEntry[];

  constructor(entries: readonly SymbolEntry[]) {
    for (const e of entries) this.byName.set(e.name, e);
    this.sorted = [...entries].sort((a, b) => a.address - b.address);
  }

  /** The start address of a symbol; UNKNOWN_SYMBOL if the table has no such name. */
  address(name: string): number {
    const e = this.byName.get(name);
    if (e === undefined) {
      throw new LabError('UNKNOWN_SYMBOL', `no symbol ${describeValue(name)} in this kernel's symbol table; known: ${this.names().slice(0, 12).join(', ')}, ...`);
    }
    return e.address;
  }

  /** The size of a symbol (0 when the table has no such name). */
  sizeOf(name: string): number {
    return this.byName.get(name)?.size ?? 0;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  names(): string[] {
    return this.sorted.map((e) => e.name);
  }

  /** The symbol containing `va48`, or null when it is in no function. */
  lookup(va48: number): Symbolised | null {
    let lo = 0;
    let hi = this.sorted.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const e = this.sorted[mid];
      if (va48 < e.address) hi = mid - 1;
      else if (va48 >= e.address + e.size) lo = mid + 1;
      else {
        const offset = va48 - e.address;
        return { address: formatVirtualAddress(va48), symbol: e.name, offset, text: `${e.name}+0x${offset.toString(16)}` };
      }
    }
    return null;
  }
}
