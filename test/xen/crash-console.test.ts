/**
 * A scripted guest (not the Linux model) reads an unmapped address with no trap table:
 * propagate_page_fault prints the unhandled-fault line and show_page_walk, create_bounce_frame
 * finds no handler and domain_crash_synchronous / __domain_crash print the rest, then the
 * domain is dead. Everything is computed from the access and the state.
 */
import { SEED_XEN_LINES } from '../support/seed';
import { describe, expect, it } from 'vitest';
import { expectLabError } from '../support/lab-error';
import { XEN_CR0, XEN_CR4, X86_EFLAGS_RF, bounceFrameAddress, bounceFrameWords } from './oracle-entry';
import { LabError } from '../../lib/errors';
import { DomainCrashed, type PvVcpu } from '../../lib/xen';
import { makeGuest, vaOfPfn, firstFreePfn, type Guest, VIRT_BASE } from './helpers';

const LOW48 = (1n << 48n) - 1n;
const hex16 = (v: bigint): string => BigInt.asUintN(64, v).toString(16).padStart(16, '0');

function crash(v: PvVcpu, addr: bigint): DomainCrashed {
  try {
    v.read64(Number(addr & LOW48));
  } catch (e) {
    if (e instanceof DomainCrashed) return e;
    throw e;
  }
  throw new Error('the read did not crash the domain');
}

/** The expected show_page_walk lines, computed by walking the state independently. */
function expectedWalk(g: Guest, addr: bigint): string[] {
  const lines = [`(XEN) Pagetable walk from ${hex16(addr)}:`];
  let mfn = g.vcpu.guestTable;
  for (let level = 4; level >= 1; level--) {
    const idx = Number((addr >> BigInt(12 + 9 * (level - 1))) & 511n);
    const e = g.host.memory.read64(BigInt(mfn) * 4096n + BigInt(idx * 8));
    const next = Number((e >> 12n) & 0xffffffffffn);
    const pfn = g.host.m2p.entry(next);
    const tail = level === 2 ? ' ' : '';
    lines.push(`(XEN)  L${level}[0x${idx.toString(16).padStart(3, '0')}] = ${hex16(e)} ${hex16(pfn)}${tail}`);
    if ((e & 1n) === 0n) break;
    mfn = next;
  }
  return lines;
}

describe('the unhandled page fault: propagate_page_fault, show_page_walk, domain_crash_synchronous, __domain_crash', () => {
  it('reproduces the seed exactly for domain 7, vCPU 0 on cpu#3 reading ffffea000005b2d0', () => {
    const g = makeGuest({ domid: 7, pcpu: 3 });
    const e = crash(g.vcpu, 0xffffea000005b2d0n);
    expect(e.lines.slice(0, 6)).toEqual([...SEED_XEN_LINES]);
    expect(g.host.console.lines.slice(0, 6)).toEqual(e.lines.slice(0, 6));
  });

  const cases = [
    { domid: 1, pcpu: 0, addr: 0xffffea0000000000n + 0x1a0cn * 56n + 48n },
    { domid: 42, pcpu: 1, addr: 0xffffea0000000000n + 0x2345n * 64n + 48n },
    { domid: 0x7fef, pcpu: 2, addr: 0xffffc90000001230n },
    { domid: 9, pcpu: 3, addr: 0x0000000000400008n },
  ];
  for (const c of cases) {
    it(`computes the six lines from the access: domain ${c.domid}, cpu#${c.pcpu}, ${hex16(c.addr)}`, () => {
      const g = makeGuest({ domid: c.domid, pcpu: c.pcpu, host: { pcpus: 4 } });
      const e = crash(g.vcpu, c.addr);
      const l4 = Number((c.addr >> 39n) & 511n);
      expect(e.lines.slice(0, 6)).toEqual([
        `(XEN) d${c.domid}:v0: unhandled page fault (ec=0000)`,
        `(XEN) Pagetable walk from ${hex16(c.addr)}:`,
        `(XEN)  L4[0x${l4.toString(16).padStart(3, '0')}] = 0000000000000000 ffffffffffffffff`,
        '(XEN) domain_crash_sync called from entry.S',
        `(XEN) Domain ${c.domid} (vcpu#0) crashed on cpu#${c.pcpu}:`,
        '(XEN) ----[ Xen-4.2.0  x86_64  debug=n  Not tainted ]----',
      ]);
      expect(e.domid).toBe(c.domid);
      expect(e.pcpu).toBe(c.pcpu);
    });
  }

  it('walks down to the first non-present entry (L2 here), with the M2P of each frame', () => {
    const g = makeGuest({ domid: 3, pcpu: 1 });
    // Beyond the bootstrap mapping but inside its L3: the L2 entry is empty.
    const addr = VIRT_BASE + BigInt(firstFreePfn(g)) * 4096n + 0x200000n * 3n + 0x18n;
    const e = crash(g.vcpu, addr);
    const walk = expectedWalk(g, addr);
    expect(walk).toHaveLength(4);
    expect(e.lines.slice(1, 5)).toEqual(walk);
    expect(e.lines[4].endsWith(' ')).toBe(true); // the L2 line's "%s" leaves a trailing space
    // The L4 and L3 lines show the guest pfns of the bootstrap L3 and L2 frames.
    expect(e.lines[2]).toContain(hex16(BigInt(g.layout.pgtables.pfn + 1)));
    expect(e.lines[3]).toContain(hex16(BigInt(g.layout.pgtables.pfn + 2)));
  });

  it('walks to the L1 line when only the L1 entry is empty', () => {
    const g = makeGuest({ domid: 5 });
    const pfn = 0x800;
    expect(g.vcpu.HYPERVISOR_update_va_mapping(BigInt(vaOfPfn(pfn)) | 0xffff000000000000n, 0n, 0)).toBe(0);
    const addr = BigInt(vaOfPfn(pfn)) | 0xffff000000000000n;
    const e = crash(g.vcpu, addr + 8n);
    const walk = expectedWalk(g, addr + 8n);
    expect(walk).toHaveLength(5);
    expect(e.lines.slice(1, 6)).toEqual(walk);
    expect(walk[4]).toMatch(/L1\[0x000\] = 0000000000000000 ffffffffffffffff$/);
  });

  it('prints the registers as show_registers does, with the state create_bounce_frame left', () => {
    const g = makeGuest({ domid: 7, pcpu: 2 });
    const v = g.vcpu;
    const r = v.regs;
    r.rip = 0xffffffff8103feban; r.rflags = 0x206n;
    r.rax = 0xffffea0000000000n; r.rbx = 0x1a0c000n; r.rcx = 0x80000000n; r.rdx = 0x5b2a0n;
    r.rsi = 0x1a0c000n; r.rdi = 0n; r.rbp = v.regs.rsp - 0x200n; r.r9 = 0x10000001n; r.r13 = 0x1000000000n; r.r15 = 0x100000n;
    const oldRsp = r.rsp - 0x228n; // 8 mod 16: create_bounce_frame aligns it down
    r.rsp = oldRsp;
    const addr = 0xffffea000005b2d0n;
    const e = crash(v, addr);
    const frame = (oldRsp & ~0xfn) - 64n;
    const cr3 = BigInt(v.guestTable) * 4096n;
    expect(e.lines.slice(6, 17)).toEqual([
      '(XEN) CPU:    2',
      '(XEN) RIP:    e033:[<ffffffff8103feba>]',
      '(XEN) RFLAGS: 0000000000000206   EM: 1   CONTEXT: pv guest',
      `(XEN) rax: ffffea0000000000   rbx: 0000000001a0c000   rcx: 0000000080000000`,
      `(XEN) rdx: 000000000005b2a0   rsi: 0000000001a0c000   rdi: 0000000000000000`,
      `(XEN) rbp: ${hex16(r.rbp)}   rsp: ${hex16(frame)}   r8:  0000000000000000`,
      '(XEN) r9:  0000000010000001   r10: 0000000000000000   r11: 0000000000000000',
      '(XEN) r12: 0000000000000000   r13: 0000001000000000   r14: 0000000000000000',
      `(XEN) r15: 0000000000100000   cr0: ${hex16(BigInt(XEN_CR0))}   cr4: ${hex16(BigInt(XEN_CR4))}`, // Xen's flag sets (oracle-entry.ts)
      `(XEN) cr3: ${hex16(cr3)}   cr2: ffffea000005b2d0`,
      '(XEN) ds: 0000   es: 0000   fs: 0000   gs: 0000   ss: e02b   cs: e033',
    ]);
    // The guest stack trace: the bounce frame's eight words first, then the stack above it.
    expect(e.lines[17]).toBe(`(XEN) Guest stack trace from rsp=${hex16(frame)}:`);
    // create_bounce_frame's words (entry.S, see oracle-entry.ts): the registers set above, error
    // code 0 (a kernel-mode read of a not-present page), the RFLAGS image with RF (a fault), events masked
    const words = bounceFrameWords({
      rcx: r.rcx, r11: r.r11, errorCode: 0, rip: r.rip, cs: 0xe033, rflagsImage: 0x206n | X86_EFLAGS_RF,
      rsp: oldRsp, ss: 0xe02b, upcallMask: 1,
    }).map(hex16);
    expect(frame).toBe(bounceFrameAddress(oldRsp, true));
    expect(e.lines[18]).toBe(`(XEN)    ${words.slice(0, 4).join(' ')}`);
    expect(e.lines[19]).toBe(`(XEN)    ${words.slice(4, 8).join(' ')}`);
  });

  it('dumps the guest stack word by word from rsp, four a line, up to 20 lines', () => {
    const g = makeGuest({ domid: 2 });
    const v = g.vcpu;
    // Put recognisable words above the fault-time rsp (a modelled call chain).
    const rsp = v.regs.rsp - 0x400n;
    const words = [0xffffffff81042d27n, 0xffffffff81ad2d21n, 0xffffffff81ac293fn, 0xffffffff81666d71n];
    words.forEach((w, i) => v.write64(Number((rsp + BigInt(i * 8)) & LOW48), w));
    v.regs.rsp = rsp;
    const e = crash(v, 0xffffea0000001000n);
    const start = e.lines.findIndex((l) => l.includes('Guest stack trace from rsp='));
    const stack = e.lines.slice(start + 1);
    expect(stack).toHaveLength(20);
    for (const l of stack) expect(l).toMatch(/^\(XEN\) {4}[0-9a-f]{16}( [0-9a-f]{16}){3}$/);
    // words 8.. are the guest's stack from its rsp: the bounce frame was 16-aligned below it
    expect(stack[2]).toBe(`(XEN)    ${words.map(hex16).join(' ')}`);
  });

  it('stops the stack dump at memory Xen cannot read ("Fault while accessing guest memory.")', () => {
    const g = makeGuest({ domid: 2 });
    const v = g.vcpu;
    // Unmap the page above a stack page (not at a 32 KiB boundary, where the dump would simply stop):
    // the frame (8 words) and 4 more words are readable, the 13th faults.
    const above = 0x1001;
    expect(v.HYPERVISOR_update_va_mapping(BigInt(vaOfPfn(above)) | 0xffff000000000000n, 0n, 0)).toBe(0);
    v.regs.rsp = (BigInt(vaOfPfn(above)) | 0xffff000000000000n) - 32n;
    const e = crash(v, 0xffffea0000001000n);
    const start = e.lines.findIndex((l) => l.includes('Guest stack trace from rsp='));
    expect(e.lines.slice(start + 1)).toEqual([
      expect.stringMatching(/^\(XEN\) {4}[0-9a-f]{16}( [0-9a-f]{16}){3}$/),
      expect.stringMatching(/^\(XEN\) {4}[0-9a-f]{16}( [0-9a-f]{16}){3}$/),
      expect.stringMatching(/^\(XEN\) {4}[0-9a-f]{16}( [0-9a-f]{16}){3}$/),
      '(XEN)     Fault while accessing guest memory.',
    ]);
  });

  // RELEASE-4.2.0 xen/arch/x86/x86_64/entry.S:372-441: every store of create_bounce_frame
  // (.Lft2 .. .Lft13) has an _ASM_EXTABLE entry to domain_crash_synchronous, and do_page_fault
  // (xen/arch/x86/traps.c:1410-1423) takes that fix-up for a fault in Xen's own code without
  // printing anything (unless the reserved bit is set). The page walk of the stack word came in 4.5.
  it('a guest stack that cannot hold the bounce frame: the crash, with no walk of the stack word', () => {
    const g = makeGuest({ domid: 4 });
    const v = g.vcpu;
    v.regs.rsp = 0xffffc90000000100n; // unmapped
    const e = crash(v, 0xffffea0000001000n);
    expect(e.lines[0]).toBe('(XEN) d4:v0: unhandled page fault (ec=0000)');
    expect(e.lines[1]).toBe('(XEN) Pagetable walk from ffffea0000001000:');
    expect(e.lines.filter((l) => l.includes('Pagetable walk'))).toHaveLength(1);
    const at = e.lines.indexOf('(XEN) domain_crash_sync called from entry.S');
    expect(e.lines.slice(2, at).every((l) => /^\(XEN\) {2}L[1-4]\[/.test(l))).toBe(true);
    expect(e.lines[at + 1]).toBe('(XEN) Domain 4 (vcpu#0) crashed on cpu#0:');
    void hex16;
  });

  // RELEASE-4.2.0 xen/arch/x86/traps.c:1093-1100: reserved_bit_page_fault prints
  // regs->error_code, and propagate_page_fault calls it with guest_cpu_user_regs() (1132-1133),
  // whose error code is the hardware's (user bit set: the 64-bit PV kernel runs in ring 3); the
  // "unhandled page fault" line before it prints the adjusted code (user bit cleared, 1111-1114).
  it('a reserved-bit fault prints the hardware error code in its own line (ec=000D), the adjusted one before', () => {
    const g = makeGuest({ domid: 5 });
    const va = BigInt(vaOfPfn(0x1000)) | 0xffff000000000000n;
    const walkTo = (level: number): { mfn: number; idx: number } => {
      let mfn = g.vcpu.guestTable;
      for (let l = 4; l > level; l--) {
        const idx = Number((va >> BigInt(12 + 9 * (l - 1))) & 511n);
        mfn = Number((g.host.memory.read64(BigInt(mfn) * 4096n + BigInt(idx * 8)) >> 12n) & 0xffffffffffn);
      }
      return { mfn, idx: Number((va >> BigInt(12 + 9 * (level - 1))) & 511n) };
    };
    const { mfn, idx } = walkTo(1);
    const at = BigInt(mfn) * 4096n + BigInt(idx * 8);
    g.host.memory.write64(at, g.host.memory.read64(at) | (1n << 51n)); // above MAXPHYADDR (46): reserved
    const e = crash(g.vcpu, va);
    expect(e.lines[0]).toBe('(XEN) d5:v0: unhandled page fault (ec=0009)');
    const rsvd = e.lines.findIndex((l) => l.includes('reserved bit in page table'));
    expect(e.lines[rsvd]).toBe('(XEN) d5:v0: reserved bit in page table (ec=000D)');
    expect(e.lines[rsvd + 1]).toBe(`(XEN) Pagetable walk from ${hex16(va)}:`);
  });

  it('leaves the domain dead: no further access, no further hypercall (LabError DOMAIN_DEAD)', () => {
    const g = makeGuest({ domid: 6 });
    crash(g.vcpu, 0xffffea0000001000n);
    expect(g.domain.isDead).toBe(true);
    expect(() => g.vcpu.read64(vaOfPfn(0x1000))).toThrowError(expect.objectContaining({ code: 'DOMAIN_DEAD' }));
    expect(() => g.vcpu.HYPERVISOR_mmuext_op([{ cmd: 6 }])).toThrowError(/DOMAIN|crashed/);
    expectLabError(() => g.vcpu.HYPERVISOR_vm_assist(0, 2), 'DOMAIN_DEAD'); // throws, and with this code
    const kinds = g.trace.events.map((ev) => ev.type);
    expect(kinds).toContain('domain-crash');
    expect(g.trace.counters.pageFaults.unhandled).toBe(1);
  });

  // The banner's version is XEN_VERSION.XEN_SUBVERSION XEN_EXTRAVERSION (xen/Makefile:3-5:
  // ".0" at RELEASE-4.2.0, ".2" at RELEASE-4.2.2), printed by print_xen_info
  // (xen/arch/x86/x86_64/traps.c:37, the same in both).
  it('a debug build says debug=y; the banner carries the host release\'s version (4.2.0 by default)', () => {
    const g = makeGuest({ domid: 8, host: { debug: true, release: '4.2.2' } });
    const e = crash(g.vcpu, 0xffffea0000001000n);
    expect(e.lines[5]).toBe('(XEN) ----[ Xen-4.2.2  x86_64  debug=y  Not tainted ]----');
    const g0 = makeGuest({ domid: 8 });
    expect(crash(g0.vcpu, 0xffffea0000001000n).lines[5]).toBe('(XEN) ----[ Xen-4.2.0  x86_64  debug=n  Not tainted ]----');
  });

  it('a write fault reports ec=0002 and a read of Xen\'s area (user-inaccessible) a protection fault', () => {
    const g1 = makeGuest({ domid: 11 });
    let e: DomainCrashed | null = null;
    try { g1.vcpu.write64(Number(0xffffea0000001000n & LOW48), 1n); } catch (err) { e = err as DomainCrashed; }
    expect(e?.lines[0]).toBe('(XEN) d11:v0: unhandled page fault (ec=0002)');
    const g2 = makeGuest({ domid: 12 });
    // slot 261 (Xen's text) is Xen's: present in every guest L4 (not _PAGE_USER), its L3 empty here
    const e2 = crash(g2.vcpu, 0xffff82c480000000n);
    expect(e2.lines[0]).toBe('(XEN) d12:v0: unhandled page fault (ec=0000)');
    expect(e2.lines[2]).toMatch(/^\(XEN\) {2}L4\[0x105\] = [0-9a-f]{13}063 ffffffffffffffff$/);
    expect(e2.lines[3]).toMatch(/^\(XEN\) {2}L3\[0x112\] = 0000000000000000 ffffffffffffffff$/);
  });
});
