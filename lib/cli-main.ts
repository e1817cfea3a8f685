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
import { PRESETS } from './lab/dom0-report';
import { readFileSync } from 'node:fs';

/** A text file's content; LabError BAD_CONFIG naming the flag when it cannot be read. */
function readTextFile(flag: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new LabError('BAD_CONFIG', `${flag} ${JSON.stringify(path)}: cannot read the file (${(e as Error).message})`);
  }
}
import { WHAT_IF_NAMES, type WhatIfName } from './linux/what-if';

const int = (name: string) => (value: string): number => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return Number(value);
};

/** A non-negative integer in decimal or 0x hex (page counts and sizes are read off Xen's hex output). */
const intOrHex = (name: string) => (value: string): number => {
  if (/^\d+$/.test(value)) return Number(value);
  if (/^0x[0-9a-f]+$/i.test(value)) return parseInt(value.slice(2), 16);
  throw new InvalidArgumentError(`${name} must be a non-negative integer (decimal or 0x hex)`);
};

function summary(r: RunResult): string[] {
  const c = r.counters;
  const hc = Object.entries(c.hypercalls).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  return [
    `outcome: ${r.outcome}${r.haltReason !== null ? ` (${r.haltReason})` : ''}${r.host === 'rebooted' || r.host === 'halted' ? `; the host ${r.host} (dom0 went down)` : ''}`,
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
    .option('--xen-release <release>', "Xen release the host follows: 4.2.0 (default), 4.2.2 or 4.1.5-pre")
    .option('--xen-debug', 'a debug build of Xen (debug=y)')
    .option('--xen-cmdline <line>', "Xen's command line, e.g. 'sync_console loglvl=all'")
    .option('--e820 <file>', 'domid 0: the machine map, a file holding the lines Xen prints under "Xen-e820 RAM map:"')
    .option('--host-vmx', "the host CPU's VMX is on (CR4.VMXE)")
    .option('--dom0-pages <n>', 'domid 0: the pages Xen gives dom0', intOrHex('--dom0-pages'))
    .option('--dom0-alloc-start <addr>', "domid 0: machine address of dom0's first allocation, e.g. 0x220000000")
    .option('--dom0-initrd-bytes <n>', "domid 0: the ramdisk's size in bytes", intOrHex('--dom0-initrd-bytes'))
    .option('--dom0-vcpus <n>', "domid 0: dom0's vCPUs", intOrHex('--dom0-vcpus'))
    .addOption(new Option('--preset <name>', 'a named configuration (its keys first, then the flags given)').choices(Object.keys(PRESETS)))
    .option('--xen-patch <name>', 'apply an XSA fix to Xen: xsa-148 or xsa-182 (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--json', 'print one JSON object instead of text')
    .action((opts: {
      variant: VariantId; platform: 'xen' | 'bare-metal'; memory: string; domid: number; pcpu: number; structPageSize: string; whatIf?: WhatIfName;
      xenRelease?: string; xenPatch: string[]; xenDebug?: boolean; xenCmdline?: string; e820?: string; hostVmx?: boolean; dom0Pages?: number;
      dom0AllocStart?: string; dom0InitrdBytes?: number; dom0Vcpus?: number; preset?: string; json?: boolean;
    }, cmd: Command) => {
      const given = (name: string): boolean => cmd.getOptionValueSource(name) === 'cli';
      const base: BootConfig = opts.preset === undefined ? {} : JSON.parse(JSON.stringify(PRESETS[opts.preset])) as BootConfig;
      const xen: Record<string, unknown> = { ...(base.xen ?? {}) };
      if (opts.xenRelease !== undefined) xen.release = opts.xenRelease;
      if (opts.xenPatch.length > 0) xen.patches = opts.xenPatch;
      if (opts.xenDebug === true) xen.debug = true;
      if (opts.xenCmdline !== undefined) xen.cmdline = opts.xenCmdline;
      const host: Record<string, unknown> = { ...(base.host ?? {}) };
      if (opts.e820 !== undefined) host.e820 = readTextFile('--e820', opts.e820);
      if (opts.hostVmx === true) host.vmx = true;
      const dom0: Record<string, unknown> = { ...(base.dom0 ?? {}) };
      if (opts.dom0Pages !== undefined) dom0.pages = opts.dom0Pages;
      if (opts.dom0AllocStart !== undefined) dom0.allocStart = opts.dom0AllocStart;
      if (opts.dom0InitrdBytes !== undefined) dom0.initrdBytes = opts.dom0InitrdBytes;
      if (opts.dom0Vcpus !== undefined) dom0.vcpus = opts.dom0Vcpus;
      const config: BootConfig = {
        ...base,
        ...(opts.preset === undefined || given('variant') ? { variant: opts.variant } : {}),
        ...(opts.preset === undefined || given('platform') ? { platform: opts.platform } : {}),
        // with a machine map the map decides the memory: --memory only when given
        ...(given('memory') || (opts.preset === undefined && opts.e820 === undefined) ? { memory: opts.memory } : {}),
        ...(opts.preset === undefined || given('domid') ? { domid: opts.domid } : {}),
        ...(opts.preset === undefined || given('pcpu') ? { pcpu: opts.pcpu } : {}),
        structPageSize: Number(opts.structPageSize) as 56 | 64,
        ...(Object.keys(xen).length > 0 ? { xen: xen as BootConfig['xen'] } : {}),
        ...(Object.keys(host).length > 0 ? { host: host as BootConfig['host'] } : {}),
        ...(Object.keys(dom0).length > 0 ? { dom0: dom0 as BootConfig['dom0'] } : {}),
        ...(opts.whatIf === undefined ? {} : { whatIf: opts.whatIf }),
      };
      const result = reproduce(config);
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
