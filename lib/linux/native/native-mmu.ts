/**
 * The bare-metal pv_mmu_ops (arch/x86/kernel/paravirt.c, v3.9: native_* ops): page-table writes
 * are plain stores and write_cr3 is `mov %0,%%cr3` (arch/x86/include/asm/special_insns.h).
 */
import type { Kernel } from '../kernel';
import { pvOp, type PvMmuOps } from '../pv-mmu-ops';

/** The processor controls native_* code uses: CR3 and the TLB. */
export interface NativeCpuControl {
  loadCr3(pa: number): void;
  flushTlb(): void;
}

export function nativeMmuOps(k: Kernel, ctl: NativeCpuControl): PvMmuOps {
  const store = (ptr: number, lo: number, hi: number): void => k.cpu.writeQword(ptr, lo, hi);
  const nop = (): void => undefined;
  return {
    read_cr3: pvOp('native_read_cr3', () => k.g.native_cr3),
    // arch/x86/include/asm/special_insns.h (v3.9): native_write_cr3 is one mov to %cr3
    write_cr3: pvOp('native_write_cr3', (cr3: number) => k.call('native_write_cr3', () => {
      k.g.native_cr3 = cr3;
      ctl.loadCr3(cr3);
      k.trace.emit({ type: 'cr3-load', value: cr3.toString(16), by: 'native_write_cr3' });
    })),
    // arch/x86/include/asm/tlbflush.h (v3.9): __native_flush_tlb reloads CR3
    flush_tlb_kernel: pvOp('native_flush_tlb', () => ctl.flushTlb()),
    alloc_pte: pvOp('paravirt_nop', nop),
    alloc_pmd: pvOp('paravirt_nop', nop),
    alloc_pud: pvOp('paravirt_nop', nop),
    pgd_alloc: pvOp('__paravirt_pgd_alloc', nop),
    set_pte: pvOp('native_set_pte', store, true),
    set_pte_at: pvOp('native_set_pte_at', store),
    set_pmd: pvOp('native_set_pmd', (p: number, lo: number, hi: number) => { store(p, lo, hi); k.trace.countPteWrite(2); }),
    set_pud: pvOp('native_set_pud', (p: number, lo: number, hi: number) => { store(p, lo, hi); k.trace.countPteWrite(3); }),
    set_pgd: pvOp('native_set_pgd', (p: number, lo: number, hi: number) => { store(p, lo, hi); k.trace.countPteWrite(4); }),
    pfn_to_entry_frame: { name: 'native_make_pte', fn: (pfn: number) => pfn,
      range: (first: number, count: number, out: Float64Array) => { for (let i = 0; i < count; i++) out[i] = first + i; } },
    entry_frame_to_pfn: pvOp('native_pte_val', (frame: number) => frame),
  };
}
