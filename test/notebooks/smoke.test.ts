import { describe, expect, it } from 'vitest';
import { executeNotebook } from '../support/notebook';

describe('notebooks/00-smoke.ipynb under the tslab kernel', () => {
  it('imports the library, walks the seed address and reports the fault, with no errors', () => {
    const run = executeNotebook('notebooks/00-smoke.ipynb');
    expect(run.errors).toEqual([]);
    const all = run.cells.map((c) => c.text).join('\n');
    expect(all).toContain("pml4: 468");
    expect(all).toContain('ok=true pa=0x12342d0 steps=4');
    expect(all).toContain('ok=false errorCode=0000 stoppedAtLevel=2');
  }, 300_000);
});
