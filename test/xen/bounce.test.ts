/**
 * The same scripted guest with a #PF handler in its trap table: propagate_page_fault fills the
 * trap bounce, create_bounce_frame writes the exception frame on the guest stack and the guest's
 * handler runs with cr2 and the error code; when it returns (iret) the access is retried and the
 * domain lives on.
 */
import { describe, expect, it } from 'vitest';
import { type GuestTrapFrame, TRAP_page_fault, VMASST_CMD_enable, VMASST_TYPE_writable_pagetables } from '../../lib/xen';
import { A, P, RW, makeGuest, pte, vaOfPfn, type Guest } from './helpers';
import { X86_EFLAGS_RF, bounceFrameWords } from './oracle-entry';

const LOW48 = (1n << 48n) - 1n;
const HANDLER = 0xffffffff81234560n;
const canon = (va48: number): bigint => BigInt(va48) | (va48 >= 2 ** 47 ? 0xffff000000000000n : 0n);

function withHandler(g: Guest, body: (frame: GuestTrapFrame) => void): GuestTrapFrame[] {
  const seen: GuestTrapFrame[] = [];
  g.vcpu.registerGuestCode(HANDLER, (_v, frame) => { seen.push(frame); body(frame); });
  expect(g.vcpu.HYPERVISOR_set_trap_table([
    { vector: TRAP_page_fault, flags: 0, cs: 0xe030, address: HANDLER },
    { vector: 0, flags: 0, cs: 0, address: 0n },
  ])).toBe(0);
  return seen;
}

describe('a #PF handler registered with set_trap_table: the fault is bounced (propagate_page_fault, create_bounce_frame)', () => {
  it('delivers cr2 and the error code, runs the handler, retries the access; the domain survives', () => {
    const g = makeGuest({ domid: 7, pcpu: 3 });
    const v = g.vcpu;
    const pfn = 0x900;
    const va = vaOfPfn(pfn);
    const mfn = g.domain.pfnToMfn(pfn);
    v.write64(va + 0x2d0, 0x1234n);
    expect(v.HYPERVISOR_update_va_mapping(canon(va), 0n, 0)).toBe(0); // unmap it
    const rspBefore = v.regs.rsp;
    const ripBefore = (v.regs.rip = 0xffffffff8103feban);
    const seen = withHandler(g, (frame) => {
      // the handler maps the page back (a modelled early_make_pgtable)
      expect(v.HYPERVISOR_update_va_mapping(frame.cr2 & ~0xfffn, pte(mfn, P | RW | A), 0)).toBe(0);
    });
    expect(v.read64(va + 0x2d0)).toBe(0x1234n);
    expect(seen).toHaveLength(1);
    expect(seen[0].cr2).toBe(canon(va + 0x2d0));
    expect(seen[0].errorCode).toBe(0); // read, not present, kernel mode: the user bit cleared
    expect(seen[0].vector).toBe(14);
    expect(seen[0].rip).toBe(ripBefore);
    expect(seen[0].frameAddress).toBe((rspBefore & ~0xfn) - 64n);
    expect(v.cr2).toBe(va + 0x2d0);
    expect(g.domain.isDead).toBe(false);
    expect(g.host.console.lines).toEqual([]);
    expect(v.regs.rsp).toBe(rspBefore); // iret restored the registers
    expect(v.regs.rip).toBe(ripBefore);
    expect(g.trace.counters.pageFaults.byHandler.bounced).toBe(1);
  });

  it('writes the exception frame on the guest stack: rcx, r11, error code, rip, cs|mask, rflags, rsp, ss', () => {
    const g = makeGuest({ domid: 2 });
    const v = g.vcpu;
    v.regs.rcx = 0x1111n; v.regs.r11 = 0x2222n; v.regs.rip = 0xffffffff81000abcn;
    const oldRsp = v.regs.rsp;
    let words: bigint[] = [];
    withHandler(g, (frame) => {
      words = [...Array(8).keys()].map((i) => v.read64(Number((frame.frameAddress + BigInt(8 * i)) & LOW48)));
      // handler state: rip at the handler, kernel selectors
      expect(v.regs.rip).toBe(HANDLER);
      expect(v.regs.cs).toBe(0xe033);
      expect(v.regs.rsp).toBe(frame.frameAddress);
      throw new Error('stop here');
    });
    expect(() => v.write64(Number(0xffffea0000000000n & LOW48), 5n)).toThrow('stop here');
    // create_bounce_frame's layout (entry.S 4.2.0, oracle-entry.ts): error code 2 = a kernel-mode write
    // to a not-present page (propagate_page_fault clears U); the RFLAGS image is the builder's 0x202
    // with RF (a fault); events are still masked (upcall mask 1), so IF is cleared in the frame
    expect(words).toEqual(bounceFrameWords({
      rcx: 0x1111n, r11: 0x2222n, errorCode: 2, rip: 0xffffffff81000abcn, cs: 0xe033, rflagsImage: 0x202n | X86_EFLAGS_RF,
      rsp: oldRsp, ss: 0xe02b, upcallMask: 1,
    }));
  });

  it('a protection fault (a write to a read-only page table, no writable_pagetables) arrives with ec 3', () => {
    const g = makeGuest({ domid: 3 });
    const v = g.vcpu;
    const l1va = vaOfPfn(g.layout.pgtables.pfn + 3); // a bootstrap L1, mapped read-only
    const seen = withHandler(g, () => {
      // the handler gives up by making the access harmless: nothing to fix, so we stop the retry
      throw new Error('handled');
    });
    expect(() => v.write64(l1va, 0n)).toThrow('handled');
    expect(seen[0].errorCode).toBe(3);
    expect(g.domain.isDead).toBe(false);
  });

  it('with VMASST_TYPE_writable_pagetables the same store is emulated (ptwr) and never reaches the guest', () => {
    const g = makeGuest({ domid: 3 });
    const v = g.vcpu;
    expect(v.HYPERVISOR_vm_assist(VMASST_CMD_enable, VMASST_TYPE_writable_pagetables)).toBe(0);
    const seen = withHandler(g, () => { throw new Error('should not bounce'); });
    const l1pfn = g.layout.pgtables.pfn + 3;
    const l1va = vaOfPfn(l1pfn);
    const l1mfn = g.domain.pfnToMfn(l1pfn);
    const before = g.host.pageInfo(g.domain.pfnToMfn(0x10)).typeCount;
    // entry 5 of that L1 maps some pfn; rewrite it to map pfn 0x10 read-only
    v.writeQword(l1va + 5 * 8, (g.domain.pfnToMfn(0x10) * 4096 + (P | A)) >>> 0, Math.floor(g.domain.pfnToMfn(0x10) / 0x100000));
    expect(seen).toHaveLength(0);
    const e = g.host.memory.read64(BigInt(l1mfn) * 4096n + 40n);
    expect(Number((e >> 12n) & 0xffffffffffn)).toBe(g.domain.pfnToMfn(0x10));
    expect(e & 0x7n).toBe(0x5n); // Xen added _PAGE_USER (adjust_guest_l1e)
    expect(g.host.pageInfo(g.domain.pfnToMfn(0x10)).typeCount).toBe(before); // a read-only mapping takes no type ref
    expect(g.trace.counters.pageFaults.byHandler.fixup).toBe(1);
  });

  it('a handler that does not fix the fault makes the model refuse the livelock (LabError INVALID_STATE)', () => {
    const g = makeGuest({ domid: 3 });
    withHandler(g, () => { /* nothing */ });
    expect(() => g.vcpu.read64(Number(0xffffea0000000000n & LOW48))).toThrowError(/faulted 64 times/);
  });
});
