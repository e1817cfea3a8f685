/**
 * An independent oracle for the page walk, after kvm-unit-tests x86/access.c (ac_emulate_access)
 * and the recipe in research/anchors.md 1.4/1.5. It shares no code with lib/x86: entries are
 * bigints and the rules are written out one by one from SDM 4.5 (reserved bits), 4.6.1 (rights),
 * 4.7 (error code) and 4.8 (A/D). It also builds each case's page tables, and names each case by
 * its set flags, as access.c's ac_names does.
 */
import type { PhysicalMemory } from '../../lib';

export const B = {
  P: 1n, RW: 2n, US: 4n, A: 0x20n, D: 0x40n, PS: 0x80n, NX: 1n << 63n,
} as const;

/** The test address: upper half, as access.c uses (0xffff923400000000 plus an offset). */
export const ORACLE_VA = 0xffff923400000123n;

/** One case: the entries of the four levels, the CPU state and the access. */
export interface OracleCase {
  pml4e: bigint;
  pdpte: bigint;
  pde: bigint;
  pte: bigint;
  maxPhysAddr: number;
  nxe: boolean; wp: boolean; smep: boolean; smap: boolean; ac: boolean;
  user: boolean; write: boolean; fetch: boolean;
}

export interface OracleResult {
  fault: boolean;
  errorCode: number;
  pa: bigint;
  /** the four entries after the access (index 0 = PML4E .. 3 = PTE) */
  after: [bigint, bigint, bigint, bigint];
}

const RSVD_2M = 0x1fe000n;   // bits 20:13 of a 2 MiB PDE
const RSVD_1G = 0x3fffe000n; // bits 29:13 of a 1 GiB PDPTE

/** What the SDM says the access does. Policy for non-leaf A on a fault: unchanged (as Bochs). */
export function oracle(c: OracleCase, va: bigint = ORACLE_VA): OracleResult {
  const entries: [bigint, bigint, bigint, bigint] = [c.pml4e, c.pdpte, c.pde, c.pte];
  const rsvdAddr = c.maxPhysAddr < 52 ? ((1n << 52n) - 1n) & ~((1n << BigInt(c.maxPhysAddr)) - 1n) : 0n;
  let code = 0;
  if (c.write) code |= 2;
  if (c.user) code |= 4;
  if (c.fetch && (c.nxe || c.smep)) code |= 16;
  const noChange = { pa: 0n, after: entries };

  let writable = true;
  let user = true;
  let noExec = false;
  let leaf = -1;
  for (let i = 0; i < 4; i++) {
    const level = 4 - i;
    const e = entries[i];
    if ((e & B.P) === 0n) return { fault: true, errorCode: code, ...noChange };
    const large = (e & B.PS) !== 0n;
    const reserved =
      (e & rsvdAddr) !== 0n
      || (!c.nxe && (e & B.NX) !== 0n)
      || (level === 4 && large)
      || (level === 3 && large && (e & RSVD_1G) !== 0n)
      || (level === 2 && large && (e & RSVD_2M) !== 0n);
    if (reserved) return { fault: true, errorCode: code | 1 | 8, ...noChange };
    if ((e & B.RW) === 0n) writable = false;
    if ((e & B.US) === 0n) user = false;
    if (c.nxe && (e & B.NX) !== 0n) noExec = true;
    if (level === 1 || (large && level <= 3)) { leaf = i; break; }
  }

  // SDM 4.6.1, rule by rule.
  const supervisor = !c.user;
  let denied = false;
  if (c.user && !user) denied = true;
  if (c.write && !writable && (c.user || c.wp)) denied = true;
  if (c.fetch && noExec) denied = true;
  if (c.fetch && supervisor && user && c.smep) denied = true;
  if (!c.fetch && supervisor && user && c.smap && !c.ac) denied = true;
  if (denied) return { fault: true, errorCode: code | 1, ...noChange };

  const size = [1n << 39n, 1n << 30n, 1n << 21n, 1n << 12n][leaf];
  const frame = entries[leaf] & 0x000ffffffffff000n & ~(size - 1n);
  const after = entries.map((e, i) => {
    if (i > leaf) return e;
    if (i === leaf) return e | B.A | (c.write ? B.D : 0n);
    return e | B.A;
  }) as [bigint, bigint, bigint, bigint];
  return { fault: false, errorCode: 0, pa: frame | (va & (size - 1n)), after };
}

/** A mixed-radix sweep over named dimensions; `legal` filters combinations as ac_test_legal does. */
export function sweep<T extends Record<string, readonly unknown[]>>(
  dims: T, legal: (v: { [K in keyof T]: T[K][number] }) => boolean,
  body: (v: { [K in keyof T]: T[K][number] }, label: string) => void,
): number {
  const names = Object.keys(dims) as Array<keyof T & string>;
  const sizes = names.map((n) => dims[n].length);
  const idx = names.map(() => 0);
  let count = 0;
  for (;;) {
    const v = {} as { [K in keyof T]: T[K][number] };
    for (let i = 0; i < names.length; i++) (v as Record<string, unknown>)[names[i]] = dims[names[i]][idx[i]];
    if (legal(v)) {
      const label = names
        .filter((n) => { const x = v[n]; return x !== false && x !== 'none' && x !== 0; })
        .map((n) => (v[n] === true ? n : `${n}=${String(v[n])}`))
        .join(' ');
      body(v, label);
      count++;
    }
    let i = 0;
    while (i < names.length && ++idx[i] === sizes[i]) { idx[i] = 0; i++; }
    if (i === names.length) return count;
  }
}

/** Fixed physical layout of a case's tables (frames 1..4) and pages. */
export const LAYOUT = {
  pml4: 0x1000n, pdpt: 0x2000n, pd: 0x3000n, pt: 0x4000n,
  page4k: 0x5000n, page2m: 0x40000000n,
} as const;

/** Writes the case's four entries at their slots for ORACLE_VA (and clears nothing else). */
export function install(mem: PhysicalMemory, c: OracleCase, va: bigint = ORACLE_VA): void {
  const index = (shift: bigint) => (va >> shift) & 511n;
  mem.write64(LAYOUT.pml4 + index(39n) * 8n, c.pml4e);
  mem.write64(LAYOUT.pdpt + index(30n) * 8n, c.pdpte);
  mem.write64(LAYOUT.pd + index(21n) * 8n, c.pde);
  mem.write64(LAYOUT.pt + index(12n) * 8n, c.pte);
}

/** Reads the four entries back (PML4E .. PTE). */
export function readBack(mem: PhysicalMemory, va: bigint = ORACLE_VA): [bigint, bigint, bigint, bigint] {
  const index = (shift: bigint) => (va >> shift) & 511n;
  return [
    mem.read64(LAYOUT.pml4 + index(39n) * 8n),
    mem.read64(LAYOUT.pdpt + index(30n) * 8n),
    mem.read64(LAYOUT.pd + index(21n) * 8n),
    mem.read64(LAYOUT.pt + index(12n) * 8n),
  ];
}

/** Flags of the two sweeps, as booleans and small enumerations. */
export const RIGHTS_DIMS = {
  'pte.w': [false, true], 'pte.u': [false, true], 'pte.nx': [false, true], 'pte.d': [false, true],
  'pde.w': [false, true], 'pde.u': [false, true], 'pde.nx': [false, true], 'pde.pse': [false, true],
  'pdpte.ro': [false, true],
  kind: ['read', 'write', 'fetch'], user: [false, true],
  'efer.nxe': [false, true], 'cr0.wp': [false, true], 'cr4.smep': [false, true], 'cr4.smap': [false, true], 'rflags.ac': [false, true],
} as const;

export const VALIDITY_DIMS = {
  'pml4e.p': [true, false], 'pdpte.p': [true, false], 'pde.p': [true, false], 'pte.p': [true, false],
  'pde.pse': [false, true],
  'pde.rsvd': ['none', 'bit51', 'bit36', 'bit13', 'nx'],
  'pte.rsvd': ['none', 'bit51', 'bit36', 'nx'],
  'pdpte.rsvd': ['none', 'bit36', 'ps-bit13'],
  kind: ['read', 'write', 'fetch'], user: [false, true],
  'efer.nxe': [false, true], 'cr4.smep': [false, true],
} as const;

type RightsCase = { [K in keyof typeof RIGHTS_DIMS]: (typeof RIGHTS_DIMS)[K][number] };
type ValidityCase = { [K in keyof typeof VALIDITY_DIMS]: (typeof VALIDITY_DIMS)[K][number] };

/** access.c's ac_test_legal, adapted: no fetch+write, at most one reserved bit (NX counts without NXE). */
export function legalRights(v: RightsCase): boolean {
  if (v.kind === 'fetch' && v.user && v['cr4.smep']) return false; // as access.c: user access with SMEP
  const nxReserved = v['efer.nxe'] ? 0 : Number(v['pte.nx'] && !v['pde.pse']) + Number(v['pde.nx']);
  return nxReserved <= 1;
}

export function legalValidity(v: ValidityCase): boolean {
  if (v['pde.rsvd'] === 'bit13' && !v['pde.pse']) return false;
  const reserved = Number(v['pde.rsvd'] !== 'none') + Number(v['pte.rsvd'] !== 'none' && !v['pde.pse'])
    + Number(v['pdpte.rsvd'] !== 'none');
  return reserved <= 1;
}

/** The entries of a rights case: every level present, rights from the flags. */
export function rightsCase(v: RightsCase): OracleCase {
  const pml4e = LAYOUT.pdpt | B.P | B.RW | B.US;
  const pdpte = LAYOUT.pd | B.P | (v['pdpte.ro'] ? 0n : B.RW) | B.US;
  const flags = (w: boolean, u: boolean, nx: boolean) => B.P | (w ? B.RW : 0n) | (u ? B.US : 0n) | (nx ? B.NX : 0n);
  const pde = (v['pde.pse'] ? LAYOUT.page2m | B.PS : LAYOUT.pt) | flags(v['pde.w'], v['pde.u'], v['pde.nx']);
  const pte = LAYOUT.page4k | flags(v['pte.w'], v['pte.u'], v['pte.nx']) | (v['pte.d'] ? B.D : 0n);
  return {
    pml4e, pdpte, pde, pte, maxPhysAddr: 46,
    nxe: v['efer.nxe'], wp: v['cr0.wp'], smep: v['cr4.smep'], smap: v['cr4.smap'], ac: v['rflags.ac'],
    user: v.user, write: v.kind === 'write', fetch: v.kind === 'fetch',
  };
}

/** The entries of a validity case, under MAXPHYADDR 36 so bit 36 is reserved. */
export function validityCase(v: ValidityCase): OracleCase {
  const rsvd = (which: string): bigint =>
    which === 'bit51' ? 1n << 51n : which === 'bit36' ? 1n << 36n : which === 'bit13' ? 1n << 13n : which === 'nx' ? B.NX : 0n;
  const all = B.RW | B.US;
  const pml4e = LAYOUT.pdpt | (v['pml4e.p'] ? B.P : 0n) | all;
  const pdpteRsvd = v['pdpte.rsvd'] === 'bit36' ? 1n << 36n : 0n;
  // 'ps-bit13' makes the PDPTE a 1 GiB leaf with bit 13 set (reserved); the PD below is then unused.
  const pdpte = v['pdpte.rsvd'] === 'ps-bit13'
    ? 0x40000000n | B.PS | (1n << 13n) | (v['pdpte.p'] ? B.P : 0n) | all
    : LAYOUT.pd | pdpteRsvd | (v['pdpte.p'] ? B.P : 0n) | all;
  const pde = (v['pde.pse'] ? LAYOUT.page2m | B.PS : LAYOUT.pt) | rsvd(v['pde.rsvd']) | (v['pde.p'] ? B.P : 0n) | all;
  const pte = LAYOUT.page4k | rsvd(v['pte.rsvd']) | (v['pte.p'] ? B.P : 0n) | all;
  return {
    pml4e, pdpte, pde, pte, maxPhysAddr: 36,
    nxe: v['efer.nxe'], wp: false, smep: v['cr4.smep'], smap: false, ac: false,
    user: v.user, write: v.kind === 'write', fetch: v.kind === 'fetch',
  };
}
