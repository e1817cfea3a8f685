/**
 * The kernel stack in guest memory, with frame pointers (CONFIG_FRAME_POINTER): a call pushes the
 * return address (caller + call-site offset), the callee's prologue pushes rbp, sets rbp = rsp,
 * pushes its callee-saved registers and makes room for its locals. The model writes the return
 * address, the saved rbp and the saved registers; locals are left as they were, so words from
 * earlier, deeper calls stay visible, as the report's stale `printk+0x48` did. The epilogue pops
 * the saved registers back. A routine that puts a value it computes in a callee-saved register
 * says what it is (`setRegister`), so a word that register is saved to can be told apart from one
 * the model never wrote.
 */
import type { VirtualCpu } from '../x86/cpu';
import { DEFAULT_FRAME, type FrameShape, type KernelVariant } from './variants';

const CALLEE_SAVED = ['rbx', 'r12', 'r13', 'r14', 'r15'] as const;

/** A 64-bit scratch read back as two 32-bit halves (LOW: the low half's index on this host). */
const U64 = new BigUint64Array(1);
const U64_HALVES = new Uint32Array(U64.buffer);
const LOW = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 0 : 1;
export type CalleeSaved = typeof CALLEE_SAVED[number];

/** What a modelled routine put in a register: the value and what it is. */
interface RegisterNote {
  value: bigint;
  what: string;
  /** 'derived': a modelled routine computed it; 'fitted': a value compiled code leaves, read off the reports */
  kind: 'derived' | 'fitted';
}

/** A callee-saved register a prologue pushed: whose value (the caller's), which, and what it held. */
export interface SavedRegisterWord {
  /** the function whose register it is (the caller of `by`) */
  of: string;
  /** the function whose prologue pushed it */
  by: string;
  reg: CalleeSaved;
  /** what the value is, when a modelled routine set it (null: the model never wrote the register) */
  what: string | null;
  /** whether that value was computed ('derived') or fitted to the reports ('fitted'); null with `what` */
  kind: 'derived' | 'fitted' | null;
}

interface Frame {
  name: string;
  /** rsp at the call (before the return address was pushed) */
  rspAtCall: number;
  rbp: number;
  savedRbp: number;
  /** the registers the prologue pushed, to pop in the epilogue */
  saved: { reg: CalleeSaved; value: bigint; note: RegisterNote | undefined }[];
}

export class KernelStack {
  private readonly frames: Frame[] = [];
  private rsp: number;
  private rbp = 0;
  /** distinct callees per caller, for call sites the variant does not list */
  private readonly placedSites = new Map<string, number>();
  /** caller -> callee -> the return address a call pushes, once worked out (a boot makes a million calls) */
  private readonly returnAddresses = new Map<string, Map<string, number>>();
  /** what modelled routines put in callee-saved registers */
  private readonly notes = new Map<CalleeSaved, RegisterNote>();
  /** stack words (bits 47:0 of their address) that hold a pushed callee-saved register */
  private readonly savedWords = new Map<number, SavedRegisterWord>();

  constructor(private readonly cpu: VirtualCpu, private readonly variant: KernelVariant, top: number) {
    this.rsp = top;
    // rsp and rbp live here as numbers; the CPU's register file reads them on demand (a crash dump,
    // a bounce frame), and what the platform writes there (Xen's bounce frame) becomes the stack's.
    const stack = this;
    const toBig = (v: number): bigint => (v === 0 ? 0n : BigInt(v) | 0xffff000000000000n);
    const toNum = (v: bigint): number => Number(v & 0xffffffffffffn);
    Object.defineProperty(cpu.regs, 'rsp', { get: () => toBig(stack.rsp), set: (v: bigint) => { stack.rsp = toNum(v); }, enumerable: true, configurable: true });
    Object.defineProperty(cpu.regs, 'rbp', { get: () => toBig(stack.rbp), set: (v: bigint) => { stack.rbp = toNum(v); }, enumerable: true, configurable: true });
  }

  /** The functions on the stack, outermost first. */
  get callChain(): string[] {
    return this.frames.map((f) => f.name);
  }

  get current(): string | null {
    return this.frames.length === 0 ? null : this.frames[this.frames.length - 1].name;
  }

  get depth(): number {
    return this.frames.length;
  }

  /** Enters `callee` by a jump (no return address), as startup_xen jumps to xen_start_kernel. */
  jump(callee: string): void {
    this.prologue(callee, this.rsp);
  }

  /** Calls `callee` from the current function: pushes the return address, then the prologue. */
  call(callee: string): void {
    const caller = this.current;
    const rspAtCall = this.rsp;
    if (caller !== null) {
      this.push(this.returnAddress(caller, callee));
    }
    this.prologue(callee, rspAtCall);
  }

  /** Returns from the current function (epilogue: pop the saved registers and rbp; ret). */
  ret(): void {
    const f = this.frames.pop();
    if (f === undefined) return;
    const regs = this.cpu.regs;
    for (const s of f.saved) {
      regs[s.reg] = s.value;
      if (s.note === undefined) this.notes.delete(s.reg);
      else this.notes.set(s.reg, s.note);
    }
    this.rsp = f.rspAtCall;
    this.rbp = f.savedRbp;
  }

  /**
   * A modelled routine puts `value` (what it computed: `what`) in callee-saved register `reg`;
   * `kind` 'fitted' when the value is what the compiled code leaves, read off the reports.
   */
  setRegister(reg: CalleeSaved, value: bigint, what: string, kind: 'derived' | 'fitted' = 'derived'): void {
    this.cpu.regs[reg] = value;
    this.notes.set(reg, { value, what, kind });
  }

  /** The stack words that hold a pushed callee-saved register, by address (bits 47:0). */
  savedRegisterWords(): ReadonlyMap<number, SavedRegisterWord> {
    return this.savedWords;
  }

  /** The return address a call from `caller` to `callee` pushes. */
  returnAddress(caller: string, callee: string): number {
    let byCallee = this.returnAddresses.get(caller);
    if (byCallee === undefined) { byCallee = new Map(); this.returnAddresses.set(caller, byCallee); }
    let address = byCallee.get(callee);
    if (address === undefined) {
      address = this.workOutReturnAddress(caller, callee);
      byCallee.set(callee, address);
    }
    return address;
  }

  private workOutReturnAddress(caller: string, callee: string): number {
    const symbols = this.variant.symbols;
    const key = `${caller}>${callee}`;
    const known = this.variant.callSites[key];
    if (known !== undefined) return symbols.address(caller) + known;
    let offset = this.placedSites.get(key);
    if (offset === undefined) {
      // A placed call site: the n-th distinct callee of a caller returns to caller + 0x10 + 8n.
      let n = 0;
      for (const k of this.placedSites.keys()) if (k.startsWith(`${caller}>`)) n++;
      offset = 0x10 + 8 * n;
      this.placedSites.set(key, offset);
    }
    return symbols.address(caller) + offset;
  }

  private prologue(name: string, rspAtCall: number): void {
    const shape: FrameShape = this.variant.frames[name] ?? DEFAULT_FRAME;
    const savedRbp = this.rbp;
    const caller = this.current ?? '';
    this.push(savedRbp);
    this.rbp = this.rsp;
    const regs = this.cpu.regs;
    const saved: Frame['saved'] = [];
    // gcc allocates rbx, r12, r13, ... in that order and pushes them highest first, rbx last
    for (let i = shape.saved - 1; i >= 0; i--) {
      const reg = CALLEE_SAVED[i % CALLEE_SAVED.length];
      const value = regs[reg];
      const note = this.notes.get(reg);
      const valid = note !== undefined && note.value === value ? note : undefined;
      this.pushBig(value);
      this.savedWords.set(this.rsp, { of: caller, by: name, reg, what: valid === undefined ? null : valid.what, kind: valid === undefined ? null : valid.kind });
      if (i < CALLEE_SAVED.length) saved.push({ reg, value, note: valid }); // ret restores each register once: order does not matter
    }
    this.rsp -= shape.locals;
    this.frames.push({ name, rspAtCall, rbp: this.rbp, savedRbp, saved });
  }

  private push(va48: number): void {
    this.rsp -= 8;
    this.savedWords.delete(this.rsp);
    // Kernel text and stack addresses are canonical upper-half: bits 63:48 set.
    const lo = va48 % 4294967296;
    const hi = Math.floor(va48 / 4294967296);
    this.cpu.writeQword(this.rsp, lo >>> 0, va48 === 0 ? 0 : (hi | 0xffff0000) >>> 0);
  }

  private pushBig(value: bigint): void {
    this.rsp -= 8;
    // the halves through a 64-bit scratch: BigInt & and >> allocate (registers hold 0 .. 2^64-1)
    U64[0] = value;
    this.cpu.writeQword(this.rsp, U64_HALVES[LOW], U64_HALVES[1 - LOW]);
  }

}
