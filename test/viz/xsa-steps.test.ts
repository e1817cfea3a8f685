import { describe, expect, it } from 'vitest';
import { xsaScenario } from '../../lib/lab';
import { xsaStepsView } from '../../lib/viz';

describe('xsaStepsView', () => {
  it('shows each step with Xen\'s answer, the lines Xen printed and the broken invariants', () => {
    const v = xsaStepsView(xsaScenario('xsa-148', { patched: false }));
    expect(v.title).toBe('XSA-148 on Xen 4.2.0 as released: accepted');
    expect(v.html.match(/step \d: the guest/g)).toHaveLength(5);
    expect(v.html).toContain('not asked (a plain store)');
    expect(v.html).toContain('not asked (a plain load)');
    expect(v.html).toContain('the bytes &ldquo;dom2 sec&rdquo;');
    expect(v.html).not.toMatch(/<script|<table/); // no script, and no table to overflow a phone
    expect(v.text.split('\n')).toHaveLength(6);
  });
  it('a refused update shows the error and Xen\'s message, and no stolen value', () => {
    const v = xsaStepsView(xsaScenario('xsa-182', { patched: true }));
    expect(v.title).toBe('XSA-182 on Xen 4.2.0 with the fix: refused (-EINVAL)');
    expect(v.html).toContain('mmu_update &rarr; <b>-EINVAL</b>');
    expect(v.html).toContain('Attempt to create linear p.t. with write perms');
    expect(v.html).not.toContain('from a page of domain 2');
  });
});
