/** The dom0 report's lines (test/fixtures/dom0-report.txt), by section. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export type Dom0ReportSection = 'xen-cmdline' | 'xen-boot' | 'xen-e820' | 'xen-dom0-build' | 'linux' | 'xen-crash' | 'xen-stack';

export function dom0Report(): Record<Dom0ReportSection, string[]> {
  const text = readFileSync(resolve(__dirname, '..', 'fixtures', 'dom0-report.txt'), 'utf8');
  const out: Record<string, string[]> = {};
  let cur: string | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('## ')) { cur = line.slice(3).trim(); out[cur] = []; continue; }
    if (line.startsWith('#') || cur === null || line === '') continue;
    out[cur].push(line);
  }
  return out as Record<Dom0ReportSection, string[]>;
}
