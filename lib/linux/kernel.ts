/**
 * One booting kernel: the variant's data, the CPU it runs on, its globals, memblock, its stack in
 * guest memory and the pv_mmu_ops in force. Routines are plain functions taking the Kernel;
 * `call` runs one with its stack frame pushed and its trace events emitted.
 */
import type { TraceRecorder } from '../trace/recorder';
import type { VirtualCpu } from '../x86/cpu';
import { KERNEL_IMAGE, type KernelImageLayout } from './image';
import { KernelStack } from './kernel-stack';
import { __PAGE_OFFSET, __START_KERNEL_map, PAGE_SIZE, THREAD_SIZE } from './layout';
import { Memblock } from './memblock';
import type { PvMmuOps } from './pv-mmu-ops';
import type { GateDesc, PvCpuOps } from './pv-cpu-ops';
import type { StructPageLayout } from './struct-page';
import type { KernelVariant } from './variants';

export type Platform = 'xen' | 'bare-metal';

/** Routines that open a boot phase (the charts' time axis is shaded by them). */
const PHASE_ROUTINES = new Set([
  'startup_64', 'x86_64_start_kernel', 'xen_start_kernel', 'xen_setup_kernel_pagetable', 'start_kernel',
  'setup_arch', 'init_mem_mapping', 'paging_init', 'xen_post_allocator_init',
]);

/** The kernel's globals the modelled routines share (their C names). */
export interface KernelGlobals {
  max_pfn: number;
  max_low_pfn: number;
  max_pfn_mapped: number;
  min_pfn_mapped: number;
  pgt_buf_start: number;
  pgt_buf_end: number;
  pgt_buf_top: number;
  /** head64.c: the next free early_dynamic_pgts page */
  next_early_pgt: number;
  /** early page-table resets (reset_early_page_tables after exhaustion) */
  early_pgt_resets: number;
  /** init.c: 1 << PG_LEVEL_2M | 1 << PG_LEVEL_1G as probe_page_size_mask decides */
  page_size_mask: number;
  /** __supported_pte_mask has _PAGE_GLOBAL (cleared by xen_start_kernel) */
  supports_global: boolean;
  /** the early #PF handler is installed (x86_64_start_kernel) */
  early_idt_installed: boolean;
  /** per-cpu xen_cr3 / xen_current_cr3 (arch/x86/xen/mmu.c) */
  xen_cr3: number;
  xen_current_cr3: number;
  /** the bare-metal CR3 as the kernel last wrote it */
  native_cr3: number;
  /** setup_arch reached its end */
  setup_arch_done: boolean;
  /** an IDT descriptor is loaded: lidt on bare metal, the per-cpu idt_desc xen_load_idt keeps under Xen */
  idt_loaded: boolean;
  /** xen_post_allocator_init has run (the 'guard-user-pgd' what-if's flag) */
  xen_post_allocator_done: boolean;
}

export const PG_LEVEL_2M = 2;
export const PG_LEVEL_1G = 3;

/** Thrown by a breakpoint at a routine's entry: the run stops there with its state intact. */
export class Paused extends Error {
  constructor(readonly routine: string, readonly step: number) {
    super(`paused at ${routine} (step ${step})`);
    this.name = 'Paused';
  }
}

/**
 * A resumable routine's frame: the step it is at and its locals, kept in the heap (not on the
 * JavaScript stack), so a run can stop between two steps, have its state saved, and later carry on
 * from that state (see `callResumable`).
 */
export interface ResumableFrame {
  readonly routine: string;
  /** the step running (or about to run) */
  pc: number;
  /** the routine's locals between steps */
  readonly locals: Record<string, number>;
}

export class Kernel {
  readonly memblock = new Memblock();
  /** the guest's own console (printk) */
  readonly console: string[] = [];
  readonly stack: KernelStack;
  readonly image: KernelImageLayout = KERNEL_IMAGE;
  pv!: PvMmuOps;
  /** pv_cpu_ops' IDT slots */
  cpuOps!: PvCpuOps;
  /** idt_table (arch/x86/kernel/head_64.S: in .bss, zero until a gate is set): one gate per vector */
  readonly idt_table: (GateDesc | null)[] = new Array<GateDesc | null>(256).fill(null);
  readonly g: KernelGlobals = {
    max_pfn: 0, max_low_pfn: 0, max_pfn_mapped: 0, min_pfn_mapped: 0, pgt_buf_start: 0, pgt_buf_end: 0,
    pgt_buf_top: 0, next_early_pgt: 0, early_pgt_resets: 0, page_size_mask: 0, supports_global: true,
    early_idt_installed: false, xen_cr3: 0, xen_current_cr3: 0, native_cr3: 0, setup_arch_done: false,
    idt_loaded: false, xen_post_allocator_done: false,
  };
  /** routines entered so far: the run's step counter */
  steps = 0;
  /** called at every routine entry, before its body (the lab's breakpoints) */
  onRoutineEnter: ((name: string, step: number) => void) | null = null;
  private readonly phaseStack: string[] = [];
  /** the resumable routines running, outermost first */
  readonly resumable: ResumableFrame[] = [];
  /**
   * Set by the lab when this kernel's state was restored from a checkpoint: the next resumable
   * calls take their frames from `resumable` (outermost first) instead of entering anew, until the
   * innermost has resumed. The count of frames resumed so far.
   */
  resumeDepth = -1;
  /**
   * Called between two steps of a resumable routine, when every routine on the kernel's stack is a
   * resumable one (the whole call chain lives in the heap): the lab's checkpoints.
   */
  onResumePoint: (() => void) | null = null;

  constructor(
    readonly variant: KernelVariant,
    readonly platform: Platform,
    readonly cpu: VirtualCpu,
    readonly trace: TraceRecorder,
    readonly page: StructPageLayout,
    /** guest RAM in bytes */
    readonly memoryBytes: number,
  ) {
    this.stack = new KernelStack(cpu, variant, this.ktextVa(KERNEL_IMAGE.init_thread_union) + THREAD_SIZE);
  }

  /** Runs routine `name` with its frame on the stack; a throw (crash, pause) leaves the stack as it was. */
  call<T>(name: string, body: () => T): T {
    this.stack.call(name);
    this.enter(name);
    const result = body();
    this.leave(name);
    this.stack.ret();
    return result;
  }

  /** Enters the first routine by a jump (startup_xen's `jmp xen_start_kernel`). */
  jumpTo(name: string, body: () => void): void {
    this.stack.jump(name);
    this.enter(name);
    body();
    this.leave(name);
  }

  /**
   * Runs routine `name` as numbered steps: `step(locals, pc)` runs step `pc` and returns the next
   * one (-1: done). Between steps the routine's whole state is `locals` and `pc`, so a run restored
   * from a checkpoint taken there carries on (the routine is not entered again). A step that calls
   * a resumable routine must do nothing with side effects before that call (on resumption the step
   * runs again up to that call). `how` 'jump' enters without a return address, as `jumpTo`.
   */
  callResumable(name: string, locals: Record<string, number>, step: (l: Record<string, number>, pc: number) => number, how: 'call' | 'jump' = 'call'): Record<string, number> {
    let frame: ResumableFrame;
    let pc: number;
    if (this.resumeDepth >= 0) {
      frame = this.resumable[this.resumeDepth++];
      if (frame === undefined || frame.routine !== name) {
        throw new Error(`resuming ${name}: the checkpoint's frame is ${frame === undefined ? 'missing' : frame.routine}`);
      }
      if (this.resumeDepth === this.resumable.length) this.resumeDepth = -1;
      pc = frame.pc;
      // the innermost frame carries on from its step; an outer one re-runs its step into the inner call
    } else {
      if (how === 'jump') this.stack.jump(name); else this.stack.call(name);
      this.enter(name);
      frame = { routine: name, pc: 0, locals };
      this.resumable.push(frame);
      pc = 0;
    }
    while (pc >= 0) {
      frame.pc = pc;
      if (this.onResumePoint !== null && this.resumeDepth < 0 && this.stack.depth === this.resumable.length
        && this.resumable[this.resumable.length - 1] === frame) this.onResumePoint();
      pc = step(frame.locals, pc);
    }
    this.resumable.pop();
    this.leave(name);
    if (how === 'call') this.stack.ret();
    return frame.locals;
  }

  /** __va(pa): the direct-map address of a physical address. */
  __va(pa: number): number {
    return __PAGE_OFFSET + pa;
  }

  /** __pa(va) for direct-map and kernel-text addresses (arch/x86/mm/physaddr.c, phys_base 0). */
  __pa(va: number): number {
    return va >= __START_KERNEL_map ? va - __START_KERNEL_map : va - __PAGE_OFFSET;
  }

  /** The kernel-text mapping of an image address (__START_KERNEL_map + pa): how symbols are addressed. */
  ktextVa(pa: number): number {
    return __START_KERNEL_map + pa;
  }

  /** printk (kernel/printk.c, v3.9): a line on the guest console, through vprintk_emit as the stack shows it. */
  printk(line: string): void {
    this.call('printk', () => this.call('vprintk_emit', () => {
      this.console.push(line);
      this.trace.emit({ type: 'console', source: 'guest', line });
    }));
  }

  /** Reads the two halves of the 64-bit entry at a kernel virtual address. */
  readEntry(va: number): [lo: number, hi: number] {
    return [this.cpu.read32(va), this.cpu.read32(va + 4)];
  }

  /** clear_page(va): zeroes a page through its kernel mapping. */
  clear_page(va: number): void {
    if (this.cpu.clearPage !== undefined) { this.cpu.clearPage(va); return; }
    for (let off = 0; off < PAGE_SIZE; off += 8) this.cpu.writeQword(va + off, 0, 0);
  }

  private enter(name: string): void {
    const step = ++this.steps;
    this.trace.routine(true, name, this.stack.depth);
    if (PHASE_ROUTINES.has(name)) {
      this.phaseStack.push(this.trace.phase);
      this.trace.enterPhase(name);
    }
    if (this.onRoutineEnter !== null) this.onRoutineEnter(name, step);
  }

  private leave(name: string): void {
    this.trace.routine(false, name, this.stack.depth);
    if (PHASE_ROUTINES.has(name)) {
      const parent = this.phaseStack.pop();
      if (parent !== undefined) this.trace.enterPhase(parent);
    }
  }
}
