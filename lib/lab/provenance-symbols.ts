/**
 * Where a kernel function's start address comes from: fitted to a frame of the crash report
 * (lib/linux/variants.ts REPORTED), or placed by the model in free text.
 */
import { formatVirtualAddress } from '../x86/address';
import type { SymbolTable } from '../linux/symbols';
import { fittedSymbol } from '../linux/variants';
import type { ProvenanceEntry } from './provenance-kinds';

const hex = (n: number): string => `0x${n.toString(16)}`;

/** stack.<symbol>: where the function's start address comes from. */
export function symbolProvenance(symbols: SymbolTable, name: string): ProvenanceEntry {
  const f = fittedSymbol(name);
  if (f !== null && symbols.has(name) && symbols.address(name) === f.address) {
    const plus = f.fitted.frame.lastIndexOf('+');
    const offset = Number(f.fitted.frame.slice(plus + 1));
    const SOURCES: Record<typeof f.fitted.source, string> = {
      'commit message': 'the commit message\'s',
      'full report': 'Konrad Wilk\'s full report (LKML, 22 Feb 2013; transcribed in test/fixtures/domu-report-call-trace.txt): its',
      'dom0 report': 'the dom0 report (construct_dom0\'s ENTRY ADDRESS line, the ELF entry; test/fixtures/dom0-report.txt): its',
    };
    const source = SOURCES[f.fitted.source];
    return {
      kind: 'fitted',
      reason: `${name} at ${formatVirtualAddress(f.address)} is fitted: ${source} frame [<${formatVirtualAddress(f.address + offset)}>] ` +
        `${f.fitted.frame}, less ${hex(offset)}`,
    };
  }
  return { kind: 'invented', reason: `${name} is placed by the model in free kernel text; no frame of the report shows it and no System.map is stored` };
}
