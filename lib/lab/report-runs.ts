/**
 * Which crash report a run reproduces: the kernel of the reports (8170e6bed465, no what-if) in one
 * report's setting. Such a run gets that report's fitted values where the two reports disagree
 * (lib/linux/variants.ts FITTED_MACHINE_STATE byReport); any other run gets only the values both
 * reports agree on, and the model's own (unwritten) registers elsewhere.
 *   domU: a 1 GiB PV domU on Xen (the reporter's "very simple PV guest (booted with one 1G)").
 *   dom0: dom0 on the report's machine map with construct_dom0's inputs (lib/lab/dom0-report.ts).
 */
import type { CrashReport } from '../linux/variants';
import { normalizeConfig, type NormalizedConfig } from './config';
import { DOM0_REPORT_CONFIG } from './dom0-report';

const GiB = 1024 * 1024 * 1024;

let dom0Report: NormalizedConfig | null = null;

/** The report `config`'s run reproduces, or null (neither). */
export function reportOf(config: NormalizedConfig): CrashReport | null {
  if (config.platform !== 'xen' || config.variant !== '8170e6bed465' || config.whatIf !== null) return null;
  if (config.domid !== 0) return config.memoryBytes === GiB ? 'domU' : null;
  dom0Report ??= normalizeConfig(DOM0_REPORT_CONFIG);
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  return config.xenRelease === dom0Report.xenRelease && same(config.hostE820, dom0Report.hostE820) && same(config.dom0, dom0Report.dom0)
    ? 'dom0' : null;
}
