import { describe, expect, it } from 'vitest';
import { executeNotebook } from '../support/notebook';

describe('the smoke notebook (test/notebooks/fixtures/smoke.ipynb) under the tslab kernel', () => {
  it("imports the library, walks the report's address and reports the fault, with no errors", () => {
    const run = executeNotebook('test/notebooks/fixtures/smoke.ipynb');
    expect(run.errors).toEqual([]);
    const all = run.cells.map((c) => c.text).join('\n');
    expect(all).toContain("pml4: 468");
    expect(all).toContain('ok=true pa=0x12342d0 steps=4');
    expect(all).toContain('ok=false errorCode=0000 stoppedAtLevel=2');
  }, 300_000);
});
