/**
 * Xen's reserved-bit page-fault path, written from xen/arch/x86/traps.c at RELEASE-4.2.0:
 * propagate_page_fault (1102-1134) clears PFEC_user_mode for a fault in guest kernel mode
 * (the bounce's error code), prints "unhandled page fault (ec=%04X)" with that adjusted code and
 * a page walk when the guest has no #PF handler, and then, because PFEC_reserved_bit is set,
 * calls reserved_bit_page_fault (1093-1100), which prints "reserved bit in page table
 * (ec=%04X)" with regs->error_code — the code the hardware pushed, whose user bit is set because
 * a 64-bit PV kernel runs in ring 3 — then the walk again and the execution state.
 * The PFEC bits are asm-x86/processor.h:134-138 (present 1, write 2, user 4, reserved 8).
 * The entry is corrupted through machine memory: no hypercall lets a guest install one.
 */
import { describe, expect, it } from 'vitest';
import { DomainCrashed } from '../../lib/xen';
import { VIRT_BASE, makeGuest, readEntry, type Guest } from './helpers';

const PFEC_page_present = 1;
const PFEC_write_access = 2;
const PFEC_user_mode = 4;
const PFEC_reserved_bit = 8;
const LOW48 = (1n << 48n) - 1n;

/** The machine address of the L1 entry that maps `va` under the vCPU's L4 (walked from memory). */
function l1EntryAddress(g: Guest, va: bigint): bigint {
  let table = g.vcpu.guestTable;
  for (const shift of [39n, 30n, 21n]) {
    const e = readEntry(g, table, Number((va >> shift) & 511n));
    expect(e & 1n).toBe(1n);
    expect(e & 0x80n).toBe(0n);
    table = Number((e >> 12n) & 0xffffffffffn);
  }
  return BigInt(table) * 4096n + ((va >> 12n) & 511n) * 8n;
}

function ec(code: number): string {
  return `ec=${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

describe('Xen 4.2.0: a reserved bit in a guest page table', () => {
  for (const write of [false, true]) {
    it(`${write ? 'a write' : 'a read'}: the bounce code drops the user bit, the reserved-bit line prints the hardware's`, () => {
      const g = makeGuest({ domid: 9 });
      const va = VIRT_BASE + 0x1000n * 4096n + 0x80n;
      const at = l1EntryAddress(g, va);
      // bit 51: above MAXPHYADDR (46 on this host), so reserved (SDM 4.5)
      g.host.memory.write64(at, g.host.memory.read64(at) | (1n << 51n));
      expect(g.vcpu.kernelMode).toBe(true);
      let crashed: unknown = null;
      try {
        if (write) g.vcpu.write64(Number(va & LOW48), 1n); else g.vcpu.read64(Number(va & LOW48));
      } catch (e) {
        crashed = e;
      }
      expect(crashed).toBeInstanceOf(DomainCrashed);
      const hardware = PFEC_page_present | PFEC_reserved_bit | PFEC_user_mode | (write ? PFEC_write_access : 0);
      const bounced = hardware & ~PFEC_user_mode;
      const lines = g.host.consoleLines;
      const unhandled = lines.indexOf(`(XEN) d9:v0: unhandled page fault (${ec(bounced)})`);
      const reserved = lines.indexOf(`(XEN) d9:v0: reserved bit in page table (${ec(hardware)})`);
      expect(unhandled).toBeGreaterThanOrEqual(0);
      expect(reserved).toBeGreaterThan(unhandled);
      // show_page_walk after each, then show_execution_state after the second
      const walk = `(XEN) Pagetable walk from ${(va).toString(16).padStart(16, '0')}:`;
      expect(lines[unhandled + 1]).toBe(walk);
      expect(lines[reserved + 1]).toBe(walk);
      expect(lines.slice(reserved).some((l) => /RIP:/.test(l))).toBe(true);
    });
  }
});
