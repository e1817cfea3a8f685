import { describe, expect, it } from 'vitest';
import {
  LAYOUT, ORACLE_VA, RIGHTS_DIMS, VALIDITY_DIMS, install, legalRights, legalValidity, oracle, readBack, rightsCase, sweep,
  validityCase, type OracleCase,
} from './oracle';
import { Mmu, PFEC_INSTR, PFEC_USER, PFEC_WRITE, PhysicalMemory, parseVirtualAddress, walk } from '../../lib';

/** Runs one case through walk() and returns a description of each difference from the oracle. */
function check(mem: PhysicalMemory, c: OracleCase, label: string): string | null {
  install(mem, c);
  const expected = oracle(c);
  const got = walk(mem, {
    cr3: LAYOUT.pml4, cr0: { wp: c.wp }, cr4: { smep: c.smep, smap: c.smap }, efer: { nxe: c.nxe }, rflags: { ac: c.ac },
  }, ORACLE_VA, { kind: c.fetch ? 'fetch' : c.write ? 'write' : 'read', user: c.user });
  const after = readBack(mem);
  const problems: string[] = [];
  if (got.ok === expected.fault) problems.push(`fault expected ${expected.fault}, got ${!got.ok}`);
  if (!got.ok && got.errorCode !== expected.errorCode) problems.push(`error code expected ${expected.errorCode}, got ${got.errorCode}`);
  if (got.ok && got.pa !== expected.pa) problems.push(`pa expected ${expected.pa.toString(16)}, got ${got.pa.toString(16)}`);
  for (let i = 0; i < 4; i++) {
    if (after[i] !== expected.after[i]) {
      problems.push(`${['PML4E', 'PDPTE', 'PDE', 'PTE'][i]} expected ${expected.after[i].toString(16)}, got ${after[i].toString(16)}`);
    }
  }
  return problems.length === 0 ? null : `${label}: ${problems.join('; ')}`;
}

describe('the walk against an independent oracle (kvm-unit-tests x86/access.c style)', () => {
  it('SDM 4.6.1/4.7/4.8: every combination of R/W, U/S, XD at PTE/PDE (4 KiB and 2 MiB), PDPTE R/O, access kind, CPL, NXE, WP, SMEP, SMAP, AC', () => {
    const mem = new PhysicalMemory({ maxPhysAddr: 46 });
    const failures: string[] = [];
    let faults = 0;
    const count = sweep(RIGHTS_DIMS, legalRights, (v, label) => {
      const c = rightsCase(v);
      if (oracle(c).fault) faults++;
      const problem = check(mem, c, label);
      if (problem !== null && failures.length < 20) failures.push(problem);
    });
    expect(failures).toEqual([]);
    // The sweep is not degenerate: thousands of cases, with both outcomes well represented.
    expect(count).toBeGreaterThan(50_000);
    expect(faults).toBeGreaterThan(count / 4);
    expect(count - faults).toBeGreaterThan(count / 10);
  });

  it('SDM 4.5/4.7: every combination of not-present and reserved bits (51, 36 under MAXPHYADDR 36, 13 in a 2 MiB PDE or 1 GiB PDPTE, XD without NXE) per level, access kind, CPL, NXE, SMEP', () => {
    const mem = new PhysicalMemory({ maxPhysAddr: 36 });
    const failures: string[] = [];
    const codes = new Set<number>();
    const count = sweep(VALIDITY_DIMS, legalValidity, (v, label) => {
      const c = validityCase(v);
      const expected = oracle(c);
      if (expected.fault) codes.add(expected.errorCode);
      const problem = check(mem, c, label);
      if (problem !== null && failures.length < 20) failures.push(problem);
    });
    expect(failures).toEqual([]);
    expect(count).toBeGreaterThan(2_000);
    // Every error-code shape appears: P=0, P|RSVD, with and without W, U and I/D.
    for (const code of [0, 2, 4, 6, 16, 20, 9, 11, 13, 15, 25, 29]) expect(codes.has(code), `error code ${code}`).toBe(true);
  });

  it('SDM 4.10.2.2/4.6.1/4.8: a TLB hit decides every rights combination as the walk would (primed by a supervisor read, as access.c "twice")', () => {
    const mem = new PhysicalMemory({ maxPhysAddr: 46 });
    const mmu = new Mmu(mem, { cr3: LAYOUT.pml4 });
    const va48 = parseVirtualAddress('va', ORACLE_VA);
    const failures: string[] = [];
    let hitsOnRealAccess = 0;
    const count = sweep(RIGHTS_DIMS, legalRights, (v, label) => {
      const c = rightsCase(v);
      mmu.invlpg(va48);
      install(mem, c);
      mmu.setCr0Wp(c.wp);
      mmu.setNxe(c.nxe);
      mmu.setCr4({ smep: c.smep, smap: c.smap });
      mmu.setAc(true); // so SMAP lets the priming read fill the TLB
      mmu.translate(va48, 0);
      const primed = oracle({ ...c, user: false, write: false, fetch: false, ac: true });
      mmu.setAc(c.ac);
      const [pml4e, pdpte, pde, pte] = primed.after;
      const expected = oracle({ ...c, pml4e, pdpte, pde, pte });
      const hitsBefore = mmu.stats.tlbHits;
      const pa = mmu.translate(va48, (c.write ? PFEC_WRITE : 0) | (c.user ? PFEC_USER : 0) | (c.fetch ? PFEC_INSTR : 0));
      hitsOnRealAccess += mmu.stats.tlbHits - hitsBefore;
      const after = readBack(mem);
      const problems: string[] = [];
      if ((pa < 0) !== expected.fault) problems.push(`fault expected ${expected.fault}, got ${pa < 0}`);
      if (pa < 0 && mmu.lastErrorCode !== expected.errorCode) problems.push(`error code expected ${expected.errorCode}, got ${mmu.lastErrorCode}`);
      if (pa >= 0 && BigInt(pa) !== expected.pa) problems.push(`pa expected ${expected.pa.toString(16)}, got ${pa.toString(16)}`);
      for (let i = 0; i < 4; i++) if (after[i] !== expected.after[i]) problems.push(`entry ${i} expected ${expected.after[i].toString(16)}, got ${after[i].toString(16)}`);
      if (problems.length > 0 && failures.length < 20) failures.push(`${label}: ${problems.join('; ')}`);
    });
    expect(failures).toEqual([]);
    // A good share of the real accesses were decided by the TLB, not by a fresh walk (writes through
    // an entry the read filled with D=0 always walk, so not most of them).
    expect(hitsOnRealAccess).toBeGreaterThan(count / 5);
  });
});
