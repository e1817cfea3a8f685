/**
 * The inputs of the dom0 report (Konrad Rzeszutek Wilk's serial log of 22 February 2013: the
 * x86/mm kernel at 8170e6bed465 booted as dom0 on a debug build of Xen 4.1.5-pre, an MSI MS-7680
 * desktop with 8 GB): the machine's e820 map as Xen printed it, Xen's command line (as its
 * options), what construct_dom0 was given (pages, where the first allocation starts, the ramdisk's
 * size, four vCPUs) and pCPU 0. Everything else either console prints follows from these and the
 * sources: test/lab/dom0-report.test.ts compares the run with the report line by line.
 */
import type { BootConfig } from './config';

/** The machine map Xen printed under "Xen-e820 RAM map:" (start, end exclusive, type). */
const MS7680_E820: [number, number, number][] = [
  [0x0, 0x9ec00, 1], [0x9ec00, 0xa0000, 2], [0xe0000, 0x100000, 2], [0x100000, 0x20000000, 1],
  [0x20000000, 0x20200000, 2], [0x20200000, 0x40000000, 1], [0x40000000, 0x40200000, 2],
  [0x40200000, 0xbad80000, 1], [0xbad80000, 0xbadc9000, 4], [0xbadc9000, 0xbadd1000, 3],
  [0xbadd1000, 0xbadf4000, 2], [0xbadf4000, 0xbadf6000, 1], [0xbadf6000, 0xbae06000, 2],
  [0xbae06000, 0xbae14000, 4], [0xbae14000, 0xbae3c000, 2], [0xbae3c000, 0xbae7f000, 4],
  [0xbae7f000, 0xbb000000, 1], [0xbb800000, 0xbfa00000, 2], [0xfed1c000, 0xfed40000, 2],
  [0xff000000, 0x100000000, 2], [0x100000000, 0x23fe00000, 1],
];

/** Xen's boot options in the report, one by one. */
const XEN_OPTIONS = [
  'cpuinfo', 'conring_size=1048576', 'sync_console', 'cpufreq=verbose', 'com1=115200,8n1', 'console=com1,vga',
  'loglvl=all', 'guest_loglvl=all',
];

/** `boot(DOM0_REPORT_CONFIG)`: the dom0 report's machine and inputs. */
export const DOM0_REPORT_CONFIG: Readonly<BootConfig> = Object.freeze({
  variant: '8170e6bed465',
  platform: 'xen',
  domid: 0,
  pcpu: 0,
  // the machine's map, and its CPU's VMX (its Xen log: "HVM: VMX enabled")
  host: { e820: MS7680_E820.map(([start, end, type]) => ({ start, end, type })), vmx: true },
  xen: { release: '4.1.5-pre', debug: true, cmdline: XEN_OPTIONS.join(' ') },
  dom0: { pages: 0x1acb65, allocStart: 0x220000000, initrdBytes: 0x13224000, vcpus: 4 },
} as BootConfig);

/** Named configurations: 'dom0-report'. */
export const PRESETS: Readonly<Record<string, Readonly<BootConfig>>> = Object.freeze({ 'dom0-report': DOM0_REPORT_CONFIG });
