/**
 * Test helper: builds 4-level address spaces in a PhysicalMemory with raw 64-bit entries, so a
 * test can set any bit (reserved ones included) at any level and read entries back.
 */
import { PhysicalMemory, parseVirtualAddress, tableIndex } from '../../lib';

/** Entry bits as bigints (SDM 4.5, tables 4-14 to 4-20). */
export const E = {
  P: 1n, RW: 2n, US: 4n, PWT: 8n, PCD: 0x10n, A: 0x20n, D: 0x40n, PS: 0x80n, G: 0x100n,
  PAT_LARGE: 0x1000n, NX: 1n << 63n,
} as const;

/** Flags of a non-leaf entry that grants everything. */
export const UPPER_ALL = E.P | E.RW | E.US;

export interface MapOptions {
  /** the leaf's level: 1 = 4 KiB PTE, 2 = 2 MiB PDE, 3 = 1 GiB PDPTE (default 1) */
  level?: 1 | 2 | 3;
  /** flags of the non-leaf entries this mapping creates, or per level [l4, l3, l2] (default P|RW|US) */
  upper?: bigint | [bigint, bigint?, bigint?];
}

export class Space {
  readonly mem: PhysicalMemory;
  readonly pml4Frame: number;

  constructor(maxPhysAddr = 46) {
    this.mem = new PhysicalMemory({ maxPhysAddr });
    this.pml4Frame = this.mem.allocFrame();
  }

  /** CR3 for the public API. */
  get cr3(): bigint {
    return BigInt(this.pml4Frame * 4096);
  }

  /** CR3's PML4 address as a number. */
  get pml4(): number {
    return this.pml4Frame * 4096;
  }

  /**
   * Maps `va` with a leaf entry `pa | leafFlags` at `options.level`. Missing tables are created
   * with the upper flags; existing non-leaf entries are rewritten with them only when
   * `options.upper` is given. Returns the physical address of the entry at each level (index = level).
   */
  map(va: bigint | string, pa: bigint, leafFlags: bigint, options: MapOptions = {}): bigint[] {
    const va48 = parseVirtualAddress('va', va);
    const leafLevel = options.level ?? 1;
    const uppers = Array.isArray(options.upper) ? options.upper : [options.upper, options.upper, options.upper];
    const entryPas: bigint[] = [0n, 0n, 0n, 0n, 0n];
    let table = this.pml4;
    for (let level = 4; level > leafLevel; level--) {
      const entryPa = BigInt(table + tableIndex(va48, level) * 8);
      entryPas[level] = entryPa;
      const current = this.mem.read64(entryPa);
      const wanted = uppers[4 - level];
      let next: number;
      if ((current & E.P) === 0n) {
        next = this.mem.allocFrame() * 4096;
      } else {
        next = Number(current & 0x000ffffffffff000n);
      }
      if ((current & E.P) === 0n || wanted !== undefined) {
        this.mem.write64(entryPa, BigInt(next) | (wanted ?? UPPER_ALL));
      }
      table = next;
    }
    const leafPa = BigInt(table + tableIndex(va48, leafLevel) * 8);
    entryPas[leafLevel] = leafPa;
    this.mem.write64(leafPa, pa | leafFlags);
    return entryPas;
  }

  /** Reads the 64-bit value at a physical address. */
  read(pa: bigint): bigint {
    return this.mem.read64(pa);
  }

  /** Writes the 64-bit value at a physical address. */
  write(pa: bigint, value: bigint): void {
    this.mem.write64(pa, value);
  }

  /** A copy of every stored frame's words, to check that nothing changed. */
  snapshot(): Map<number, number[]> {
    const copy = new Map<number, number[]>();
    for (const [frame, words] of this.mem.frames) copy.set(frame, Array.from(words));
    return copy;
  }
}
