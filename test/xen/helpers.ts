/** Shared set-up for the Xen model's tests: a small domain, entry encoders, address helpers. */
import { TraceRecorder } from '../../lib/trace';
import { MMUEXT_PIN_L1_TABLE, MMUEXT_UNPIN_TABLE, PGT_type_mask, PGT_validated, XenHost, buildPvDomain, type PvDomainBuild, type XenHostOptions } from '../../lib/xen';

export const VIRT_BASE = 0xffffffff80000000n;
export const VIRT_BASE48 = Number(VIRT_BASE & 0xffffffffffffn);
export const KERNEL_PFN = 0x1000;

export interface Guest extends PvDomainBuild {
  host: XenHost;
  trace: TraceRecorder;
}

/** A host with one small domain (default 64 MiB, a 2 MiB "kernel" at pfn 0x1000). */
export function makeGuest(opts: { domid?: number; pcpu?: number; memoryMiB?: number; host?: XenHostOptions; kernelPages?: number } = {}): Guest {
  const trace = new TraceRecorder();
  const host = new XenHost({ trace, ...(opts.host ?? {}) });
  const built = buildPvDomain(host, {
    domid: opts.domid ?? 1,
    memoryBytes: (opts.memoryMiB ?? 64) * 1024 * 1024,
    pcpu: opts.pcpu ?? 0,
    kernel: {
      virtBase: VIRT_BASE,
      loadPfn: KERNEL_PFN,
      pages: opts.kernelPages ?? 0x200,
      fill: (pfn, words) => { words[0] = pfn; }, // a recognisable word at the start of each page
      entry: VIRT_BASE + 0x1000000n,
    },
  });
  return { ...built, host, trace };
}

/** The 48-bit virtual address of guest pfn `pfn` in the bootstrap mapping. */
export function vaOfPfn(pfn: number): number {
  return VIRT_BASE48 + pfn * 4096;
}

/** A page-table entry for machine frame `mfn` with low flags `flags` (and optional high bits). */
export function pte(mfn: number, flags: number, hi = 0n): bigint {
  return (BigInt(mfn) << 12n) | BigInt(flags) | (hi << 32n);
}

/** The machine address of entry `index` in frame `mfn`, with an MMU_* command in the low bits. */
export function entryPtr(mfn: number, index: number, cmd = 0): bigint {
  return (BigInt(mfn) << 12n) + BigInt(index * 8) + BigInt(cmd);
}

/** Reads entry `index` of machine frame `mfn` as a bigint. */
export function readEntry(g: Guest, mfn: number, index: number): bigint {
  return g.host.memory.read64(BigInt(mfn) * 4096n + BigInt(index * 8));
}

/** The first guest pfn beyond the bootstrap mapping: free frames (type none, count 0) start here. */
export function firstFreePfn(g: Guest): number {
  return Number((g.layout.virtPgtabEnd - VIRT_BASE) / 4096n);
}

/** Flags */
export const P = 1;
export const RW = 2;
export const US = 4;
export const A = 0x20;
export const D = 0x40;
export const PSE = 0x80;
export const G = 0x100;
export const PWT = 8;
export const PCD = 0x10;

/** The machine frame of the k-th free guest frame (beyond the bootstrap mapping). */
export function freeMfn(g: Guest, k: number): number {
  return g.domain.pfnToMfn(firstFreePfn(g) + k);
}

export function write(g: Guest, mfn: number, index: number, val: bigint, cmd = 0): number {
  return g.vcpu.HYPERVISOR_mmu_update([{ ptr: entryPtr(mfn, index, cmd), val }]);
}

export function pin(g: Guest, level: number, mfn: number): number {
  return g.vcpu.HYPERVISOR_mmuext_op([{ cmd: MMUEXT_PIN_L1_TABLE + level - 1, mfn }]);
}

/** An L1 (free frame k) holding one RW mapping of guest pfn 0x10, pinned. */
export function pinnedL1(g: Guest, k = 0): number {
  const l1 = freeMfn(g, k);
  if (write(g, l1, 0, pte(g.domain.pfnToMfn(0x10), P | RW)) !== 0 || pin(g, 1, l1) !== 0) throw new Error('pinnedL1 failed');
  return l1;
}

/** A frame's general reference count, type, type count and validated flag (page_info, as Xen keeps it). */
export function counts(g: Guest, mfn: number) {
  const ft = g.host.frameTable;
  return { ref: ft.refCountOf(mfn), type: ft.typeInfo[mfn] & PGT_type_mask, tc: ft.typeCountOf(mfn), validated: (ft.typeInfo[mfn] & PGT_validated) !== 0 };
}

/** MMUEXT_UNPIN_TABLE of `mfn` by the guest's vCPU; the hypercall's return code. */
export const unpin = (g: Guest, mfn: number): number => g.vcpu.HYPERVISOR_mmuext_op([{ cmd: MMUEXT_UNPIN_TABLE, mfn }]);

/** The console lines Xen printed while `f` ran, joined. */
export function printed(g: Guest, f: () => void): string {
  const mark = g.host.console.lines.length;
  f();
  return g.host.console.since(mark).join('\n');
}

/** Writes 64-bit entries straight into a frame (the guest's own data, before it asks Xen to pin it). */
export function fill(g: Guest, mfn: number, entries: Record<number, bigint>): void {
  const w = g.host.memory.words(mfn);
  for (const [i, v] of Object.entries(entries)) {
    w[Number(i) * 2] = Number(v & 0xffffffffn);
    w[Number(i) * 2 + 1] = Number(v >> 32n);
  }
}
