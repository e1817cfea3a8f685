#!/usr/bin/env node
/**
 * The terminal front end: `pvops-lab repro` boots a kernel variant and prints what Xen printed,
 * the guest stack symbolised as in the seed, and a summary (or one JSON object with --json).
 * Exit status 0 whatever the guest did; 2 on bad arguments.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { LabError } from './errors';
import { reproduce } from './lab/boot';
import { formatFrame } from './lab/guest-stack';
import type { RunResult } from './lab/result';
import type { BootConfig } from './lab/config';
import { VARIANT_IDS, type VariantId } from './linux/variants';
import { WHAT_IF_NAMES, type WhatIfName } from './linux/what-if';

const int = (name: string) => (value: string): number => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return Number(value);
};

function summary(r: RunResult): string[] {
  const c = r.counters;
  const hc = Object.entries(c.hypercalls).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  return [
    `outcome: ${r.outcome}${r.haltReason !== null ? ` (${r.haltReason})` : ''}`,
    `kernel: ${r.config.variant} on ${r.config.platform}, ${r.config.memoryBytes / 2 ** 20} MiB, struct page ${r.config.structPageSize} bytes${r.config.whatIf === null ? '' : `, what-if ${r.config.whatIf}`}`,
    `fault: ${r.fault === null ? 'none unhandled' : `${r.fault.address} error code ${r.fault.errorCode.toString(16).padStart(4, '0')}`}`,
    `pgd (init_level4_pgt) pfn: 0x${r.pgdPfn.toString(16)}`,
    `page faults: ${c.pageFaults.handled} handled (${c.pageFaults.earlyPf} by the early #PF handler, ${c.pageFaults.fixup} fixed up by Xen), ${c.pageFaults.unhandled} unhandled`,
    `page-table pages allocated: L4 ${c.ptPages.l4}, L3 ${c.ptPages.l3}, L2 ${c.ptPages.l2}, L1 ${c.ptPages.l1}`,
    `hypercalls: ${hc}`,
    `provenance: ${['domid', 'pcpu', 'structPageSize', 'pgdPfn', 'faultAddress', 'l4Index'].map((k) => `${k} ${r.provenance[k].kind}`).join(', ')} (--json: every value, with why)`,
  ];
}

function toJson(r: RunResult): object {
  return {
    outcome: r.outcome,
    variant: r.config.variant,
    platform: r.config.platform,
    xenConsole: r.xenConsole,
    guestStack: r.guestStack.map((f) => ({ address: f.address, symbol: f.symbol, offset: f.offset })),
    fault: r.fault,
    pgdPfn: r.pgdPfn,
    counters: {
      pageFaults: { handled: r.counters.pageFaults.handled, unhandled: r.counters.pageFaults.unhandled },
      ptPages: r.counters.ptPages,
      hypercalls: r.counters.hypercalls,
      mmuextOps: r.counters.mmuextOps,
      earlyPgtResets: r.counters.earlyPgtResets,
    },
    guestConsole: r.guestConsole,
    // where each value comes from: report, derived, fitted or invented (lib/lab/provenance.ts)
    provenance: r.provenance,
  };
}

export function main(argv: string[]): number {
  const program = new Command();
  program.name('pvops-lab').description('Reproduce and explain the Linux 3.9-rc1 Xen PV boot crash (8170e6bed465, fixed by 5b5c1af104ab)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  program.command('repro')
    .description('boot a kernel variant and print the Xen console, the symbolised guest stack and a summary')
    .addOption(new Option('--variant <id>', 'kernel variant').choices([...VARIANT_IDS]).default('8170e6bed465'))
    .addOption(new Option('--platform <name>', 'platform').choices(['xen', 'bare-metal']).default('xen'))
    .option('--memory <size>', "guest memory, e.g. 2G, 512M", '2G')
    .option('--domid <n>', 'Xen domain id', int('--domid'), 7)
    .option('--pcpu <n>', 'physical CPU the vCPU runs on', int('--pcpu'), 3)
    .addOption(new Option('--struct-page-size <n>', 'sizeof(struct page)').choices(['56', '64']).default('56'))
    .addOption(new Option('--what-if <name>', 'a what-if on 8170e6bed465 under Xen').choices([...WHAT_IF_NAMES]))
    .option('--xen-release <release>', "Xen release the host follows: 4.2.0 (default) or 4.2.2")
    .option('--xen-patch <name>', 'apply an XSA fix to Xen: xsa-148 or xsa-182 (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--json', 'print one JSON object instead of text')
    .action((opts: { variant: VariantId; platform: 'xen' | 'bare-metal'; memory: string; domid: number; pcpu: number; structPageSize: string; whatIf?: WhatIfName; xenRelease?: string; xenPatch: string[]; json?: boolean }) => {
      const xen = opts.xenRelease === undefined && opts.xenPatch.length === 0 ? undefined
        : { release: opts.xenRelease, patches: opts.xenPatch } as BootConfig['xen'];
      const result = reproduce({
        variant: opts.variant, platform: opts.platform, memory: opts.memory, domid: opts.domid, pcpu: opts.pcpu,
        structPageSize: Number(opts.structPageSize) as 56 | 64, ...(xen === undefined ? {} : { xen }),
        ...(opts.whatIf === undefined ? {} : { whatIf: opts.whatIf }),
      });
      if (opts.json === true) {
        process.stdout.write(`${JSON.stringify(toJson(result), null, 2)}\n`);
        return;
      }
      const out: string[] = [];
      if (result.xenConsole.length > 0) out.push(...result.xenConsole, '');
      if (result.guestStack.length > 0) {
        out.push('Guest stack (Xen\'s stack words, symbolised):');
        for (const f of result.guestStack) out.push(`  ${formatFrame(f)}`);
        out.push('');
      } else {
        out.push('Guest console (last lines):', ...result.guestConsole.slice(-8).map((l) => `  ${l}`), '');
      }
      out.push(...summary(result));
      process.stdout.write(`${out.join('\n')}\n`);
    });
  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof LabError) {
      process.stderr.write(`pvops-lab: ${e.message}\n`);
      return 2;
    }
    const ce = e as { code?: string; exitCode?: number };
    if (typeof ce.code === 'string' && ce.code.startsWith('commander.')) {
      return ce.code === 'commander.helpDisplayed' || ce.code === 'commander.version' ? 0 : 2;
    }
    throw e;
  }
  return 0;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
