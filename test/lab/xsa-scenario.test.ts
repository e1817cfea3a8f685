/**
 * The two XSA case studies run end to end: a guest's exploit on Xen 4.2.0 as released, and the
 * same steps with the fix. Sources (xen.git, xen/arch/x86/mm.c at RELEASE-4.2.0):
 *  - mod_l2_entry's fast path compares only the frame and _PAGE_PRESENT (mm.c:1934), and
 *    L2_DISALLOW_MASK always drops _PAGE_PSE (mm.c:171): XSA-148's hole; its fix fe360c90ea keeps
 *    _PAGE_PSE in the mask without allowsuperpage, so the update logs "Bad L2 flags 80" (the
 *    mask check comes before the fast path, mm.c:1929) and returns -EINVAL.
 *  - mod_l4_entry's fast path compares only the frame and _PAGE_PRESENT (mm.c:2072): XSA-182's
 *    hole; its fix e1bff4c2ea lets only a whitelist of harmless flags through, so adding _PAGE_RW
 *    revalidates, and get_l4_linear_pagetable refuses a writable linear entry (mm.c:760, -EINVAL).
 */
import { describe, expect, it } from 'vitest';
import { LabError } from '../../lib/errors';
import { XenHost, buildPvDomain } from '../../lib/xen';
import { auditPvMappings, xsaScenario } from '../../lib/lab';
import { TraceRecorder } from '../../lib/trace';

const EINVAL = 22; // xen/include/public/errno.h
/** "dom2 secret" as the victim keeps it: the first qword a successful attacker reads. */
const VICTIM_QWORD = Buffer.from('dom2 sec', 'latin1').readBigUInt64LE(0).toString(16).padStart(16, '0');

function labError(f: () => unknown): LabError {
  try { f(); } catch (e) { if (e instanceof LabError) return e; throw e; }
  throw new Error('expected a LabError');
}

describe('XSA-148: a superpage made out of an L2 entry that points to an L1', () => {
  it('Xen 4.2.0 as released accepts it; the guest then maps and reads another domain\'s page', () => {
    const r = xsaScenario('xsa-148', { patched: false });
    expect(r.accepted).toBe(true);
    expect(r.errorCode).toBeNull();
    const flip = r.steps[2];
    expect(flip.call).toBe('mmu_update');
    expect(flip.result).toBe(0);
    expect(flip.xen).toEqual([]); // the fast path logs nothing
    expect(flip.violations.join('\n')).toMatch(/writable 2 MiB superpage .* maps page table \w+ \(L1\) writable/);
    // The guest's own store, with no hypercall: an L1 entry Xen never validated.
    const store = r.steps[3];
    expect(store.call).toBeNull();
    expect(store.violations.join('\n')).toMatch(/L1 \w+\[0\] maps frame \w+ of domain 2/);
    expect(r.stolen).toBe(VICTIM_QWORD);
    expect(r.violations.length).toBe(2);
  });
  it('with the fix the update is refused with -EINVAL ("Bad L2 flags 80") and every invariant holds', () => {
    const r = xsaScenario('xsa-148', { patched: true });
    expect(r.accepted).toBe(false);
    expect(r.errorCode).toBe(-EINVAL);
    expect(r.steps.at(-1)?.xen.join('\n')).toMatch(/:d1 Bad L2 flags 80$/);
    expect(r.steps.every((s) => s.violations.length === 0)).toBe(true);
    expect(r.stolen).toBeNull();
  });
});

describe('XSA-182: _PAGE_RW added to a read-only recursive L4 entry', () => {
  it('Xen 4.2.0 as released accepts it; through the recursive slot the guest edits an L1 and reads another domain', () => {
    const r = xsaScenario('xsa-182', { patched: false });
    expect(r.steps[0].result).toBe(0); // a read-only linear L4 entry is allowed (get_l4_linear_pagetable)
    expect(r.steps[0].violations).toEqual([]);
    expect(r.accepted).toBe(true);
    expect(r.steps[1].violations.join('\n')).toMatch(/L4 (\w+)\[384\] is a writable linear map of L4 \1 \(itself\)/);
    expect(r.steps[2].call).toBeNull();
    expect(r.steps[2].walk?.steps.map((s) => s.index)).toEqual([384, 511, 510, 0]);
    expect(r.steps[2].frames?.map((f) => f.type)).toEqual(['PGT_l4_page_table', 'PGT_l4_page_table', 'PGT_l3_page_table', 'PGT_l2_page_table']);
    expect(r.stolen).toBe(VICTIM_QWORD);
  });
  it('with the fix the update is revalidated and refused (-EINVAL, "Attempt to create linear p.t. with write perms")', () => {
    const r = xsaScenario('xsa-182', { patched: true });
    expect(r.accepted).toBe(false);
    expect(r.errorCode).toBe(-EINVAL);
    expect(r.steps.at(-1)?.xen.join('\n')).toMatch(/:d1 Attempt to create linear p\.t\. with write perms$/);
    expect(r.violations).toEqual([]);
    expect(r.steps).toHaveLength(2);
  });
  it('is deterministic', () => {
    expect(JSON.stringify(xsaScenario('xsa-182', { patched: false }), (_k, v) => typeof v === 'bigint' ? v.toString(16) : v))
      .toBe(JSON.stringify(xsaScenario('xsa-182', { patched: false }), (_k, v) => typeof v === 'bigint' ? v.toString(16) : v));
  });
});

describe('auditPvMappings', () => {
  it('finds nothing wrong in domains as the builder leaves them', () => {
    const host = new XenHost({ trace: new TraceRecorder() });
    const kernel = { virtBase: 0xffffffff80000000n, loadPfn: 0x1000, pages: 0x200, fill: () => undefined, entry: 0xffffffff81000000n };
    const a = buildPvDomain(host, { domid: 1, memoryBytes: 64 << 20, kernel });
    const b = buildPvDomain(host, { domid: 2, memoryBytes: 64 << 20, kernel });
    expect(auditPvMappings(host, a.domain)).toEqual([]);
    expect(auditPvMappings(host, b.domain)).toEqual([]);
  });
});

describe('bad input', () => {
  it('an unknown XSA is refused with the ids allowed', () => {
    const e = labError(() => xsaScenario('xsa-999' as never, { patched: false }));
    expect(e.code).toBe('UNKNOWN_XSA');
    expect(e.message).toContain("'xsa-148', 'xsa-182'");
  });
  it('options of the wrong type or with unknown keys are refused', () => {
    expect(labError(() => xsaScenario('xsa-148', null as never)).code).toBe('WRONG_TYPE');
    expect(labError(() => xsaScenario('xsa-148', { patched: 'yes' } as never)).code).toBe('WRONG_TYPE');
    expect(labError(() => xsaScenario('xsa-148', { patched: true, fast: 1 } as never)).code).toBe('BAD_CONFIG');
  });
});
