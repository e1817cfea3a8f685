/**
 * The dom0 report, line by line: the run of DOM0_REPORT_CONFIG (the report's machine map, Xen's
 * command line, construct_dom0's inputs, pCPU 0; lib/lab/dom0-report.ts) against the lines
 * transcribed in test/fixtures/dom0-report.txt (Konrad Rzeszutek Wilk's serial log of 22 February
 * 2013). Every report line the model concerns itself with must appear in the model's console in
 * the same order, except the lines listed in UNMATCHED, each with the reason the model differs;
 * a line that starts to match (or stops) fails the test, so the list stays true.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reproduce } from '../../lib/lab/boot';
import { DOM0_REPORT_CONFIG } from '../../lib/lab/dom0-report';
import { dom0Report, type Dom0ReportSection } from '../support/dom0-report';

/** Report lines the model prints differently, and why. */
const UNMATCHED: Record<string, string> = {
  '(XEN)  ENTRY ADDRESS: ffffffff81abc1e0':
    "startup_xen's address: the model places symbols the report does not show (lib/linux/variants.ts PLACED_TEXT); the entry is that symbol",
};

/** For each report line of `section`, whether it is found in `model` at or after the previous match. */
function matchInOrder(report: string[], model: string[]): { line: string; found: boolean }[] {
  let at = 0;
  return report.map((line) => {
    const i = model.indexOf(line, at);
    if (i < 0) return { line, found: false };
    at = i + 1;
    return { line, found: true };
  });
}

describe('the dom0 report, from its inputs', () => {
  const report = dom0Report();
  const r = reproduce(DOM0_REPORT_CONFIG);

  it('crashes dom0 on the same fault and takes the machine down: the host reboots', () => {
    expect(r.outcome).toBe('crashed');
    expect(r.host).toBe('rebooted');
    expect(r.fault?.address).toBe(report['xen-crash'][1].replace(/.*from ([0-9a-f]+):$/, '$1'));
  });

  const sections: [Dom0ReportSection, () => string[]][] = [
    ['xen-boot', () => r.xenConsole],
    ['xen-e820', () => r.xenConsole],
    ['xen-dom0-build', () => r.xenConsole],
    ['linux', () => r.guestConsole],
    ['xen-crash', () => r.xenConsole],
  ];
  const tally: string[] = [];
  for (const [section, model] of sections) {
    it(`${section}: every line matches in order, but the ones explained`, () => {
      const res = matchInOrder(report[section], model());
      const missing = res.filter((x) => !x.found).map((x) => x.line);
      expect(missing).toEqual(report[section].filter((l) => UNMATCHED[l] !== undefined));
      tally.push(`${section}: ${res.length - missing.length}/${res.length}`);
    });
  }

  it('the CR3 in the dump is where construct_dom0 put the pgd: the allocation start plus its pfn', () => {
    const cr3 = /cr3: ([0-9a-f]{16})/.exec(r.xenConsole.join('\n'))?.[1];
    expect(BigInt(`0x${cr3}`)).toBe(0x220000000n + BigInt(r.pgdPfn) * 4096n);
    expect(report['xen-crash'].some((l) => l.includes(`cr3: ${cr3}`))).toBe(true);
  });

  it('fits the scratch registers the two reports disagree on to this report, and says so', () => {
    for (const name of ['r10', 'r11']) {
      expect(r.provenance[`registers.${name}`].kind, name).toBe('fitted');
      expect(r.provenance[`registers.${name}`].reason, name).toContain('fitted to the dom0 report');
    }
    // r9 is the same in both reports: from the kernel's code
    expect(r.provenance['registers.r9'].reason).toContain('fitted to both reports');
    // the same machine with another dom0 size is not the report's run: r10/r11 stay the model's (0), invented
    const other = reproduce({ ...DOM0_REPORT_CONFIG, dom0: { ...DOM0_REPORT_CONFIG.dom0, pages: 0x100000 } });
    expect(other.xenConsole.find((l) => l.includes(' r10: '))).toContain('r10: 0000000000000000   r11: 0000000000000000');
    expect(other.provenance['registers.r10'].kind).toBe('invented');
    expect(other.provenance['registers.r10'].reason).toContain('dom0 report: 0x5');
  });

  it('no line of the report that carries data (numbers, addresses) is written in lib/: they are computed', () => {
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const f of readdirSync(dir)) {
        const p = join(dir, f);
        if (statSync(p).isDirectory()) walk(p); else if (p.endsWith('.ts')) files.push(readFileSync(p, 'utf8'));
      }
    };
    walk(resolve(__dirname, '..', '..', 'lib'));
    const src = files.join('\n');
    const data = Object.values(report).flat().map((l) => l.replace(/^\(XEN\) ?/, '').trim())
      .filter((l) => /[0-9a-f]{5,}|\d{3,}/.test(l.replace(/e820/g, ''))); // 'e820' is a name, not data
    expect(data.length).toBeGreaterThan(100);
    expect(data.filter((l) => src.includes(l))).toEqual([]);
  });

  it('says how many of the report\'s lines the model derives', () => {
    expect(tally.length).toBe(sections.length);
    // eslint-disable-next-line no-console
    console.log(`dom0 report lines matched: ${tally.join(', ')}`);
  });
});
