/**
 * The two invariants that keep a PV guest out of Xen, checked from the raw state (machine memory
 * and the frame table), not from any bookkeeping of the hypercall code:
 *  1. no guest-writable mapping of a frame that is in use as a page table (else the guest edits
 *     its page tables without Xen validating the edit);
 *  2. no mapping of a frame the guest does not own (else it reads or writes Xen's or another
 *     domain's memory).
 * Every present entry of every validated page-table frame the domain owns is looked at: L1
 * entries and 2 MiB superpages map data; L2-L4 entries that point back at a table of their own
 * level (linear, "recursive" maps) map page tables as data. The same rules as the hypercall fuzz
 * in test/xen/invariants.ts, which is written separately from this file.
 */
import { PGT_type_mask, PGT_validated, type Domain, type XenHost } from '../../xen';

const P = 1;
const RW = 2;
const PSE = 0x80;
const DOMID_IO = 0x7ff1; // xen/include/public/xen.h
const L1_PAGETABLE_ENTRIES = 512;

const hex = (n: number): string => n.toString(16);

function mfnOf(lo: number, hi: number): number {
  return (hi & 0xfffff) * 0x100000 + (lo >>> 12);
}

/** The frame's page-table level (1..4) if it is a validated page table in use, else 0. */
function tableLevel(host: XenHost, mfn: number): number {
  const ft = host.frameTable;
  if (mfn >= host.maxPage) return 0;
  const ti = ft.typeInfo[mfn];
  const type = ti & PGT_type_mask;
  return type >= 1 && type <= 4 && (ti & PGT_validated) !== 0 && ft.typeCountOf(mfn) > 0 ? type : 0;
}

function ownerName(host: XenHost, mfn: number): string {
  if (mfn >= host.maxPage) return 'no one (beyond machine memory)';
  const o = host.frameTable.owner[mfn];
  return o === DOMID_IO ? 'DOMID_IO' : o === 0xffff ? 'no one (free)' : `domain ${o}`;
}

/** Violations of invariants 1 and 2 in the tables domain `dom` owns (empty when both hold). */
export function auditPvMappings(host: XenHost, dom: Domain): string[] {
  const ft = host.frameTable;
  const out: string[] = [];
  const owns = (mfn: number): boolean => mfn < host.maxPage && ft.owner[mfn] === dom.domid;
  for (const [m, w] of host.memory.frames) {
    if (!owns(m)) continue;
    const level = tableLevel(host, m);
    if (level === 0) continue;
    for (let i = 0; i < 512; i++) {
      const lo = w[i * 2];
      if ((lo & P) === 0) continue;
      if (level === 4 && i >= 256 && i < 272) continue; // Xen's own slots, installed by Xen
      const t = mfnOf(lo, w[i * 2 + 1]);
      const where = `L${level} ${hex(m)}[${i}]`;
      if (level === 2 && (lo & PSE) !== 0) {
        // A 2 MiB superpage maps 512 frames as data.
        const base = t & ~(L1_PAGETABLE_ENTRIES - 1);
        for (let f = base; f < base + L1_PAGETABLE_ENTRIES; f++) {
          if (!owns(f)) { out.push(`${where}: a 2 MiB superpage over ${hex(base)}..${hex(base + 511)} maps frame ${hex(f)} of ${ownerName(host, f)}`); break; }
        }
        if ((lo & RW) !== 0) {
          for (let f = base; f < base + L1_PAGETABLE_ENTRIES; f++) {
            const l = tableLevel(host, f);
            if (l !== 0) { out.push(`${where}: a writable 2 MiB superpage over ${hex(base)}..${hex(base + 511)} maps page table ${hex(f)} (L${l}) writable`); break; }
          }
        }
        continue;
      }
      if (!owns(t)) { out.push(`${where} maps frame ${hex(t)} of ${ownerName(host, t)}`); continue; }
      const tl = tableLevel(host, t);
      if (level === 1) {
        if ((lo & RW) !== 0 && tl !== 0) out.push(`${where} maps page table ${hex(t)} (L${tl}) writable`);
      } else if (tl === level && (lo & RW) !== 0) {
        // An entry that points at a table of its own level maps that table as data one level down.
        out.push(`${where} is a writable linear map of L${level} ${hex(t)}${t === m ? ' (itself)' : ''}`);
      }
    }
  }
  return out;
}
