/**
 * The vCPU's cached translations across HYPERVISOR_mmu_update: an update that replaces a present
 * entry must never leave the old translation in use, and one that fills an empty entry (which
 * keeps the cache: no cached translation went through it) must map at once.
 */
import { describe, expect, it } from 'vitest';
import { A, P, RW, makeGuest, pte, readEntry, vaOfPfn, write, type Guest } from './helpers';

/** The frame and index of the L1 entry that maps `va48` in the vCPU's current tables. */
function l1EntryOf(g: Guest, va48: number): { mfn: number; index: number } {
  let mfn = g.vcpu.cr3Mfn;
  for (const shift of [39, 30, 21]) {
    const e = readEntry(g, mfn, Math.floor(va48 / 2 ** shift) % 512);
    expect(e & 1n).toBe(1n);
    mfn = Number((e >> 12n) & 0xffffffffffn);
  }
  return { mfn, index: Math.floor(va48 / 4096) % 512 };
}

describe('cached translations and mmu_update', () => {
  it('a read after a present entry is pointed elsewhere sees the new frame', () => {
    const g = makeGuest();
    const va = vaOfPfn(0x1100);
    expect(g.vcpu.read32(va)).toBe(0x1100); // the kernel page's marker word: now cached
    const other = g.domain.pfnToMfn(0x1180);
    const { mfn, index } = l1EntryOf(g, va);
    expect(write(g, mfn, index, pte(other, P | RW | A))).toBe(0);
    expect(g.vcpu.read32(va)).toBe(0x1180);
    // and back, while the other page's translation is cached too
    expect(g.vcpu.read32(vaOfPfn(0x1180))).toBe(0x1180);
    expect(write(g, mfn, index, pte(g.domain.pfnToMfn(0x1100), P | RW | A))).toBe(0);
    expect(g.vcpu.read32(va)).toBe(0x1100);
    expect(g.vcpu.read32(vaOfPfn(0x1180))).toBe(0x1180);
  });

  it('a fill of an empty entry: the new page reads at once, the pages read before still read right', () => {
    const g = makeGuest();
    const va = vaOfPfn(0x1160);
    const { mfn, index } = l1EntryOf(g, va);
    expect(write(g, mfn, index, 0n)).toBe(0); // unmapped (present -> empty)
    expect(readEntry(g, mfn, index)).toBe(0n);
    expect(g.vcpu.read32(vaOfPfn(0x1100))).toBe(0x1100); // cached
    const target = g.domain.pfnToMfn(0x1140);
    expect(write(g, mfn, index, pte(target, P | RW | A))).toBe(0); // empty -> present: the fill
    expect(g.vcpu.read32(va)).toBe(0x1140);
    expect(g.vcpu.read32(vaOfPfn(0x1100))).toBe(0x1100);
    // then replaced (present -> present): the next read sees the replacement
    expect(write(g, mfn, index, pte(g.domain.pfnToMfn(0x1150), P | RW | A))).toBe(0);
    expect(g.vcpu.read32(va)).toBe(0x1150);
  });
});
