/**
 * The attacker's world for the XSA scenarios: a Xen host with two small 64-bit PV domains. The
 * attacker (domain 1) holds its bootstrap page tables as libxc built them; the victim (domain 2)
 * holds a page whose first words the attacker will try to read. Everything the attacker does
 * goes through the hypercalls a PV kernel has (mmu_update) or through its own loads and stores,
 * which the vCPU's MMU translates through the attacker's page tables.
 */
import { TraceRecorder } from '../../trace';
import { XenHost, buildPvDomain, type PvDomainBuild, type XenHostOptions } from '../../xen';

export const VIRT_BASE = 0xffffffff80000000n;
const VIRT_BASE48 = Number(VIRT_BASE & 0xffffffffffffn);
const PAGE = 4096;
/** What the victim keeps in the page the attacker goes after (invented: "dom2 secret"). */
export const VICTIM_WORDS: readonly number[] = [0x326d6f64, 0x63657320, 0x00746572];

export interface XsaWorld {
  host: XenHost;
  attacker: PvDomainBuild;
  victim: PvDomainBuild;
  /** the victim's page (a machine frame the attacker does not own) */
  victimMfn: number;
}

/** The Xen the scenario runs on: 4.2.0 as released, or with the one XSA's fix applied. */
export function hostOptions(xsa: 'xsa-148' | 'xsa-182', patched: boolean, trace: TraceRecorder): XenHostOptions {
  return { trace, release: '4.2.0', patches: patched ? [xsa] : [] };
}

export function makeWorld(options: XenHostOptions): XsaWorld {
  const host = new XenHost(options);
  const image = (fill: (pfn: number, words: Uint32Array) => void) => ({
    virtBase: VIRT_BASE, loadPfn: 0x1000, pages: 0x200, fill, entry: VIRT_BASE + 0x1000000n,
  });
  const attacker = buildPvDomain(host, { domid: 1, memoryBytes: 64 << 20, pcpu: 0, kernel: image(() => undefined) });
  const victim = buildPvDomain(host, {
    domid: 2, memoryBytes: 64 << 20, pcpu: 1,
    kernel: image((pfn, words) => { if (pfn === 0x1000) words.set(VICTIM_WORDS); }),
  });
  return { host, attacker, victim, victimMfn: victim.domain.pfnToMfn(0x1000) };
}

/** The machine frame of the attacker's current top-level table (guest_table). */
export function l4Mfn(w: XsaWorld): number {
  return w.attacker.vcpu.guestTable;
}

/** Entry `index` of machine frame `mfn`, as the raw 64-bit value. */
export function readEntry(w: XsaWorld, mfn: number, index: number): bigint {
  return w.host.memory.read64(BigInt(mfn) * BigInt(PAGE) + BigInt(index * 8));
}

/** The frame an entry points to. */
export function entryMfn(e: bigint): number {
  return Number((e >> 12n) & 0xffffffffffn);
}

/** The machine frames of the attacker's tables on the way to `va48`: [L4, L3, L2, L1]. */
export function tablesFor(w: XsaWorld, va48: number): number[] {
  const out = [l4Mfn(w)];
  for (let level = 4; level > 1; level--) {
    const index = Math.floor(va48 / 2 ** (12 + 9 * (level - 1))) % 512;
    out.push(entryMfn(readEntry(w, out[out.length - 1], index)));
  }
  return out;
}

/** The attacker's first free guest frame (beyond its bootstrap mapping) whose mfn starts a 2 MiB extent. */
export function alignedFreeFrame(w: XsaWorld): number {
  const first = Number((w.attacker.layout.virtPgtabEnd - VIRT_BASE) / BigInt(PAGE));
  for (let pfn = first; pfn < w.attacker.layout.totalPages; pfn++) {
    const mfn = w.attacker.domain.pfnToMfn(pfn);
    if (mfn % 512 === 0) return mfn;
  }
  throw new Error('no 2 MiB-aligned free frame in the attacker');
}

/** A kernel virtual address of the attacker: VIRT_BASE + offset. */
export function kernelVa(offset: number): number {
  return VIRT_BASE48 + offset;
}

/** The sign-extended text of a 48-bit virtual address. */
export function vaText(va48: number): string {
  const v = BigInt(va48);
  return ((v & (1n << 47n)) !== 0n ? v | 0xffff000000000000n : v).toString(16).padStart(16, '0');
}

export function mmuUpdate(w: XsaWorld, tableMfn: number, index: number, val: bigint): number {
  return w.attacker.vcpu.HYPERVISOR_mmu_update([{ ptr: BigInt(tableMfn) * BigInt(PAGE) + BigInt(index * 8), val }]);
}
