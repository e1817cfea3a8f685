/**
 * The `host` and `dom0` parts of a run's configuration: the machine's memory map (as entries or as
 * the text Xen prints under "Xen-e820 RAM map:") and, for `domid: 0`, what construct_dom0 is given
 * (how many pages, where its first contiguous allocation starts in machine memory, the ramdisk's
 * size, the vCPUs). Checked up front; refused where they do not apply.
 */
import { LabError, describeValue, expectBoolean, expectInteger } from '../errors';
import { E820_RAM, normalizeE820, type E820Entry, type E820EntryInput } from '../xen/e820';

/** `boot({ host: { e820 } })` */
export interface HostConfig {
  /** the machine's memory map: `{ start, end, type }` entries (end exclusive) or Xen's "Xen-e820 RAM map:" lines */
  e820?: E820EntryInput[] | string;
  /** the CPU has VMX and Xen turns it on for HVM guests (CR4.VMXE in Xen's dumps; default false) */
  vmx?: boolean;
}

/** `boot({ domid: 0, dom0: { ... } })` */
export interface Dom0Config {
  /** the pages Xen gives dom0 (nr_pages; default: compute_dom0_nr_pages over the map) */
  pages?: number;
  /** machine address where the initial contiguous allocation starts (default: the highest aligned free block) */
  allocStart?: number | bigint | string;
  /** the ramdisk's size in bytes (default 0: no ramdisk) */
  initrdBytes?: number;
  /** dom0's vCPUs (opt_dom0_max_vcpus; default: the host's physical CPUs) */
  vcpus?: number;
}

export interface NormalizedHostConfig {
  /** the host's e820 map, or null for the model's growing host (domUs only) */
  hostE820: E820Entry[] | null;
  /** the host CPU's VMX is on */
  hostVmx: boolean;
  /** dom0's inputs (domid 0 only), each null where the model derives it */
  dom0: { pages: number | null; allocStart: number | null; initrdBytes: number; vcpus: number | null } | null;
}

/** A plain PC map of `bytes` of RAM: base memory, the BIOS area reserved, RAM from 1 MiB on. */
export function plainPcE820(bytes: number): E820Entry[] {
  return [
    { start: 0, end: 0x9f000, type: E820_RAM },
    { start: 0x9f000, end: 0xa0000, type: 2 },
    { start: 0xf0000, end: 0x100000, type: 2 },
    { start: 0x100000, end: bytes, type: E820_RAM },
  ];
}

export function normalizeHostConfig(host: unknown, dom0: unknown, platform: string, domid: number): NormalizedHostConfig {
  let hostE820: E820Entry[] | null = null;
  let hostVmx = false;
  if (host !== undefined) {
    if (platform !== 'xen') throw new LabError('BAD_CONFIG', `the config key "host" applies to platform 'xen' only; this run is on ${JSON.stringify(platform)}`);
    if (typeof host !== 'object' || host === null || Array.isArray(host)) {
      throw new LabError('WRONG_TYPE', `host must be an object like { e820: [...] }; got ${describeValue(host)}`);
    }
    for (const key of Object.keys(host)) {
      if (key !== 'e820' && key !== 'vmx') throw new LabError('BAD_CONFIG', `unknown key ${JSON.stringify(key)} in host; allowed: e820, vmx`);
    }
    const h = host as { e820?: unknown; vmx?: unknown };
    if (h.e820 !== undefined) hostE820 = normalizeE820(h.e820);
    hostVmx = expectBoolean('host.vmx', h.vmx, true) ?? false;
  }
  if (dom0 !== undefined && domid !== 0) {
    throw new LabError('BAD_CONFIG', `the config key "dom0" applies to domid 0 only; this run's domid is ${domid}`);
  }
  if (domid !== 0) {
    if (hostE820 !== null) throw new LabError('BAD_CONFIG', 'host.e820 is read by domid 0 (construct_dom0); a domU is built by the toolstack on the model\'s own host');
    return { hostE820, hostVmx, dom0: null };
  }
  let d: Record<string, unknown> = {};
  if (dom0 !== undefined) {
    if (typeof dom0 !== 'object' || dom0 === null || Array.isArray(dom0)) {
      throw new LabError('WRONG_TYPE', `dom0 must be an object like { pages: 0x1acb65, allocStart: '0x220000000', initrdBytes: 0x13224000, vcpus: 4 }; got ${describeValue(dom0)}`);
    }
    d = dom0 as Record<string, unknown>;
    const known = ['pages', 'allocStart', 'initrdBytes', 'vcpus'];
    for (const key of Object.keys(d)) {
      if (!known.includes(key)) throw new LabError('BAD_CONFIG', `unknown key ${JSON.stringify(key)} in dom0; allowed: ${known.join(', ')}`);
    }
  }
  let allocStart: number | null = null;
  if (d.allocStart !== undefined) {
    const v = d.allocStart;
    let n = NaN;
    if (typeof v === 'number') n = v;
    else if (typeof v === 'bigint') n = Number(v);
    else if (typeof v === 'string' && /^\s*(0x)?[0-9a-f]+\s*$/i.test(v)) n = parseInt(v.trim().replace(/^0x/i, ''), 16);
    if (!Number.isInteger(n) || n < 0 || n % 4096 !== 0 || n > 2 ** 52) {
      throw new LabError('BAD_CONFIG', `dom0.allocStart must be a page-aligned machine address (number, bigint or hex string); got ${describeValue(v)}`);
    }
    allocStart = n;
  }
  return {
    hostE820,
    hostVmx,
    dom0: {
      pages: d.pages === undefined ? null : expectInteger('dom0.pages', d.pages, 4096, 2 ** 36),
      allocStart,
      initrdBytes: d.initrdBytes === undefined ? 0 : expectInteger('dom0.initrdBytes', d.initrdBytes, 0, 2 ** 40),
      vcpus: d.vcpus === undefined ? null : expectInteger('dom0.vcpus', d.vcpus, 1, 128),
    },
  };
}
