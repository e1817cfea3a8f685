/**
 * What the crash dump of 8170e6bed465 under Xen shows that can be derived rather than matched
 * against the report: the guest stack's frame-pointer chain, followed through the words Xen
 * printed, must give return addresses inside the callers' symbols, in the order the model called
 * them; the bounce frame at the top of the stack must be what entry.S's create_bounce_frame
 * writes from the registers; cr0 and cr4 are the flag sets Xen sets (oracle-entry.ts). What is
 * fitted to the report is labelled where it is checked.
 */
import { describe, expect, it } from 'vitest';
import { boot, reproduce } from '../../lib/lab/boot';
import type { RegisterFile } from '../../lib/x86/cpu';
import { kernelVariant } from '../../lib/linux/variants';
import { XEN_CR0, XEN_CR4, X86_EFLAGS_RF, bounceFrameAddress, bounceFrameWords } from '../xen/oracle-entry';

const r = reproduce();
const hex = (s: string): bigint => BigInt(`0x${s}`);

/** A register's value from show_registers' lines ("rbp: ffff...   rsp: ..."). */
function reg(name: string): bigint {
  if (name === 'RIP') return hex(/RIP:\s+[0-9a-f]{4}:\[<([0-9a-f]{16})>\]/.exec(r.xenConsole.find((l) => l.includes('RIP:')) ?? '')![1]);
  for (const line of r.xenConsole) {
    const m = new RegExp(`\\b${name}:\\s+([0-9a-f]{16})`).exec(line);
    if (m !== null) return hex(m[1]);
  }
  throw new Error(`no ${name} in the register dump`);
}

/** The stack words Xen printed, with the rsp they start at. */
function stackWords(): { rsp: bigint; words: bigint[] } {
  const at = r.xenConsole.findIndex((l) => l.includes('Guest stack trace from rsp='));
  expect(at).toBeGreaterThan(0);
  const rsp = hex(/rsp=([0-9a-f]{16})/.exec(r.xenConsole[at])![1]);
  const words: bigint[] = [];
  for (const line of r.xenConsole.slice(at + 1)) {
    const m = /^\(XEN\)\s{4}((?:\s?[0-9a-f]{16})+)\s*$/.exec(line);
    if (m === null) break;
    for (const w of m[1].trim().split(/\s+/)) words.push(hex(w));
  }
  return { rsp, words };
}

describe('the crash dump of 8170e6bed465 under Xen, derived', () => {
  const symbols = kernelVariant('8170e6bed465').symbols;
  const symbolOf = (a: bigint): string | null => symbols.lookup(Number(a & 0xffffffffffffn))?.symbol ?? null;

  it('the frame-pointer chain through the printed stack returns into each caller, in the modelled call order', () => {
    const { rsp, words } = stackWords();
    const word = (a: bigint): bigint | undefined => words[Number((a - rsp) / 8n)];
    const returns: string[] = [];
    let fp = reg('rbp');
    // follow [fp] (the caller's rbp) and [fp + 8] (the return address) while both were printed
    for (let guard = 0; guard < 64 && fp > rsp && word(fp + 8n) !== undefined; guard++) {
      const ret = word(fp + 8n)!;
      if (ret === 0n) break; // the outermost frame: xen_start_kernel was jumped to (startup_xen), not called
      const caller = symbolOf(ret);
      expect(caller, `return address ${ret.toString(16)} lies in no symbol`).not.toBeNull();
      const offset = Number(ret & 0xffffffffffffn) - symbols.address(caller!);
      expect(offset).toBeGreaterThan(0); // after the call instruction, inside the caller
      returns.push(caller!);
      const next = word(fp)!;
      expect(next).toBeGreaterThan(fp); // the stack grows down: each caller's frame is above
      fp = next;
    }
    // the callers from innermost out are the model's call chain, less the faulting routine itself
    const chain = r.callChain;
    expect(returns).toEqual(chain.slice(0, -1).reverse());
    expect(returns.length).toBeGreaterThanOrEqual(5);
    // and the faulting RIP is inside the innermost routine
    expect(symbolOf(reg('RIP'))).toBe(chain[chain.length - 1]);
  });

  it('the words the report shows that are not on the chain (printk, __add_preferred_console) are stale, below live frames', () => {
    const { words } = stackWords();
    const named = words.map(symbolOf);
    const onChain = new Set(r.callChain);
    const stale = named.filter((s): s is string => s !== null && !onChain.has(s));
    // fitted to the report: the stale words come from FRAMES/CALL_SITES in lib/linux/variants.ts,
    // chosen so the stack symbolises like the report (an earlier printk's frame left behind)
    expect(stale).toEqual(expect.arrayContaining(['printk', '__add_preferred_console.clone.1']));
  });

  it('the top of the stack is the bounce frame create_bounce_frame wrote, and rsp points at it', () => {
    const { rsp, words } = stackWords();
    expect(reg('rsp')).toBe(rsp);
    const frame = words.slice(0, 8);
    const oldRsp = frame[6];
    // entry.S: rsp = (the rsp at the fault, aligned down to 16) - 64 (8 words with the error code).
    // The rsp at the fault itself is fitted to the report through the guest's frame sizes (FRAMES).
    expect(rsp).toBe(bounceFrameAddress(oldRsp, true));
    const expected = bounceFrameWords({
      rcx: reg('rcx'), r11: reg('r11'),
      errorCode: 0, // a read of a not-present page in guest kernel mode (propagate_page_fault clears U)
      rip: reg('RIP'),
      cs: 0xe033, // FLAT_KERNEL_CS (public/arch-x86/xen-x86_64.h), RPL 3
      // the RFLAGS image the CPU saved: the guest's rflags at the fault with RF set (a fault)
      rflagsImage: reg('RFLAGS') | X86_EFLAGS_RF,
      rsp: oldRsp, ss: 0xe02b, // FLAT_KERNEL_SS
      upcallMask: 1, // events still masked, as the domain builder leaves them (tools/libxc/xc_dom_x86.c:529)
    });
    expect(frame).toEqual(expected);
    // rcx holds -__START_KERNEL_map (2^64 - 0xffffffff80000000), the constant __pa() adds: the value
    // is derived; that the compiled xen_get_user_pgd keeps it in rcx is read off the report.
    expect(reg('rcx')).toBe((1n << 64n) - 0xffffffff80000000n);
  });

  it("xen_write_cr3's frame holds init_mem_mapping's callee-saved registers: end in rbx's slot, step_size in r13's, as at the fault", () => {
    // gcc pushes r14, r13, r12, rbx below the saved rbp (the dom0 report's stack has the same layout);
    // init_mem_mapping (arch/x86/mm/init.c, v3.9.6:404-436) keeps end = max_pfn << PAGE_SHIFT and step_size there
    const { rsp, words } = stackWords();
    const word = (a: bigint): bigint => words[Number((a - rsp) / 8n)];
    const frameOfXenWriteCr3 = word(reg('rbp')); // xen_get_user_pgd's saved rbp
    expect(word(frameOfXenWriteCr3 - 16n)).toBe(reg('r13'));
    expect(word(frameOfXenWriteCr3 - 32n)).toBe(BigInt(r.config.memoryBytes)); // a domU's RAM ends at its size
    expect(reg('r13')).toBe(0x200000n << 15n); // PMD_SIZE shifted three times for 2 GiB (64M, 2G, 64G)
  });

  it("the epilogue pops the saved registers back: after xen_write_cr3 returns, rbx is init_mem_mapping's end again", () => {
    // the 'guard-user-pgd' what-if lets xen_write_cr3 return inside init_mem_mapping
    const run = boot({ whatIf: 'guard-user-pgd', memory: '1G' });
    run.runTo('xen_get_user_pgd');
    const regs = (): RegisterFile => run.current!.platform.cpu.regs;
    expect(regs().rbx).toBe(0x1a0c000n); // xen_write_cr3's argument, __pa(init_level4_pgt)
    run.runTo('xen_flush_tlb');
    expect(run.result().callChain.slice(-2)).toEqual(['init_mem_mapping', 'xen_flush_tlb']);
    expect(regs().rbx).toBe(1n << 30n); // end = max_pfn << PAGE_SHIFT for 1 GiB
  });

  it('cr0 and cr4 are the flag sets Xen 4.2.0 sets', () => {
    expect(reg('cr0')).toBe(BigInt(XEN_CR0));
    expect(reg('cr4')).toBe(BigInt(XEN_CR4));
  });
});
