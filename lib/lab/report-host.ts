/**
 * The one figure of the domU report (Konrad Wilk, LKML, 22 Feb 2013: a 1 GiB PV guest on Xen
 * 4.2.0) that only the reporter's host decided: the machine frame behind the guest's pgd, which
 * Xen prints as cr3. Which frame the toolstack's populate_physmap handed to which pfn depends on
 * the state of Xen's heap on that machine (what ran before, in which order), so the model cannot
 * derive it; the model's own builder hands out 2 MiB extents from the top of memory, and the
 * report's frame is not 2 MiB aligned relative to its pfn. So the report's guest gets the
 * report's frame here, as host data, FITTED: the builder's frame for the pgd's pfn is moved to it
 * (its contents, page_info, M2P entry, the builder's L1 entry and the guest's mfn_list entry), the
 * rest of the domain stays where the builder put it.
 */
import { LabError } from '../errors';
import { PAGE_SIZE, newWalkScratch, walkCore } from '../x86';
import type { XenHost } from '../xen/host';
import { EXTENT_FRAMES } from '../xen/host';
import type { Domain } from '../xen/domain';
import { OWNER_NONE } from '../xen/page-info';
import type { ProvenanceEntry } from './provenance-kinds';
import type { NormalizedConfig } from './config';

const GiB = 1024 * 1024 * 1024;

/** The report's guest and the frame its host gave the pgd: fitted (the report's cr3 over PAGE_SIZE). */
export const REPORT_DOMU_HOST = {
  /** "a very simple PV guest (booted with one 1G)" */
  memoryBytes: GiB,
  /** the machine frame of init_level4_pgt in the reporter's domain (its cr3 >> 12) */
  pgdMfn: 0x411165,
} as const;

/** The fitted pgd frame for this run, or null when the run is not the report's domU. */
export function fittedPgdMfn(config: NormalizedConfig): number | null {
  if (config.platform !== 'xen' || config.domid === 0) return null;
  return config.memoryBytes === REPORT_DOMU_HOST.memoryBytes ? REPORT_DOMU_HOST.pgdMfn : null;
}

/**
 * Machine memory (bytes) for a host that holds the fitted frame below the domain the builder
 * places at the top: the frame, rounded up to an extent, plus the domain's extents; or undefined
 * (a host that grows to fit, as usual).
 */
export function hostBytesFor(config: NormalizedConfig): number | undefined {
  const mfn = fittedPgdMfn(config);
  if (mfn === null) return undefined;
  const extents = (n: number): number => Math.ceil(n / EXTENT_FRAMES) * EXTENT_FRAMES;
  return (extents(mfn + 1) + extents(config.memoryBytes / PAGE_SIZE) + EXTENT_FRAMES) * PAGE_SIZE;
}

/** cr3's provenance for this run. */
export function cr3Provenance(config: NormalizedConfig): ProvenanceEntry {
  if (fittedPgdMfn(config) !== null) {
    return {
      kind: 'fitted',
      reason: 'the machine frame of init_level4_pgt is host data fitted to the report (lib/lab/report-host.ts): which frame the ' +
        'toolstack gave that pfn depends on the reporter\'s Xen heap, not on anything the model runs',
    };
  }
  return {
    kind: 'derived',
    reason: 'the machine frame Xen holds as the guest\'s base pointer (init_level4_pgt\'s frame); its number comes from how the model\'s ' +
      'host and domain builder allocate memory (2 MiB extents from the top)',
  };
}

function writeEntryMfn(host: XenHost, pa: number, mfn: number): void {
  const lo = host.memory.readWord(pa);
  const hi = host.memory.readWord(pa + 4);
  host.memory.writeWord(pa, ((mfn % 0x100000) * PAGE_SIZE + (lo & 0xfff)) >>> 0);
  host.memory.writeWord(pa + 4, ((hi & 0xfff00000) | Math.floor(mfn / 0x100000)) >>> 0);
}

/**
 * Moves guest pfn `pfn` of a freshly built domain (before its vCPU runs) to machine frame `mfn`:
 * what the toolstack would have done had Xen's heap handed it that frame for the pfn. Refuses a
 * frame that is not free.
 */
export function placeFittedFrame(
  host: XenHost, domain: Domain, bootstrapL4Mfn: number, kernelVirtBase: number, mfnListVa: number, pfn: number, mfn: number,
): void {
  const ft = host.frameTable;
  const old = domain.pfnToMfn(pfn);
  if (old < 0 || !ft.mfnValid(mfn) || ft.ownerOf(mfn) !== null) {
    throw new LabError('INVALID_STATE', `cannot give pfn 0x${pfn.toString(16)} machine frame 0x${mfn.toString(16)}: it is not a free frame of this host`);
  }
  const ctl = { pml4: bootstrapL4Mfn * PAGE_SIZE, wp: false, smep: false, smap: false, ac: false, nxe: true, maxPhysAddr: 46 };
  const scratch = newWalkScratch();
  const walk = (va48: number): void => {
    if (!walkCore(host.memory, ctl, va48, 0, scratch, null)) {
      throw new LabError('INVALID_STATE', `the builder's page tables do not map 0x${va48.toString(16)}`);
    }
  };
  // the builder's L1 entry for the pfn's kernel mapping, and the guest's mfn_list entry
  walk(kernelVirtBase + pfn * PAGE_SIZE);
  const l1e = scratch.leafEntryPa;
  walk(mfnListVa + pfn * 8);
  const p2mPa = scratch.pa;
  // contents, page_info (owner, type, counts), M2P, the builder's mapping, the guest's P2M
  host.memory.words(mfn).set(host.memory.words(old));
  ft.assign(mfn, domain.domid);
  ft.typeInfo[mfn] = ft.typeInfo[old];
  ft.setTypeCount(mfn, ft.typeCountOf(old));
  ft.setRefCount(mfn, ft.refCountOf(old));
  host.m2p.set(mfn, pfn);
  host.m2p.invalidate(old);
  writeEntryMfn(host, l1e, mfn);
  host.memory.writeWord(p2mPa, mfn % 0x100000000);
  host.memory.writeWord(p2mPa + 4, Math.floor(mfn / 0x100000000));
  domain.p2mMoved.set(pfn, mfn);
  // the builder's frame goes back to the heap: free, no owner, no type, no references
  host.memory.clearFrame(old);
  ft.owner[old] = OWNER_NONE;
  ft.typeInfo[old] = 0;
  ft.setTypeCount(old, 0);
  ft.setRefCount(old, 0);
}
