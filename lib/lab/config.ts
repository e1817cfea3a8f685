/**
 * A run's configuration: which kernel, on which platform, with how much memory, and the knobs
 * the story turns (Xen domain id and physical CPU, sizeof(struct page)). Checked up front.
 */
import { LabError, describeValue, expectBoolean, expectInteger } from '../errors';
import type { Platform } from '../linux/kernel';
import { STRUCT_PAGE_SIZES } from '../linux/struct-page';
import { VARIANT_IDS, type VariantId } from '../linux/variants';
import { checkWhatIfApplies, whatIfByName, type WhatIfName } from '../linux/what-if';
import { normalizeXenConfig, type XenConfig } from './xen-config';
import { normalizeHostConfig, type Dom0Config, type HostConfig, type NormalizedHostConfig } from './host-config';
import type { XenPatch, XenRelease } from '../xen/release';

export interface BootConfig {
  /** the kernel, in history order: 'v3.8', '8170e6bed465^', '8170e6bed465' (default) or '5b5c1af104ab' */
  variant?: VariantId;
  /** 'xen' (default) or 'bare-metal' */
  platform?: Platform;
  /** guest RAM: bytes, or a size like '2G', '512M' (default '2G'; 64 MiB to 1 TiB); domid 0 without host.e820: a plain PC map of this much RAM */
  memory?: string | number;
  /** the Xen domain id (default 7); 0 builds dom0 as Xen's construct_dom0 does, on `host.e820` */
  domid?: number;
  /** the physical CPU the vCPU runs on (default 3) */
  pcpu?: number;
  /** sizeof(struct page): 56 (default) or 64 */
  structPageSize?: 56 | 64;
  /** bare metal: the CPU has 1 GiB pages (direct_gbpages; default false) */
  gbpages?: boolean;
  /**
   * A what-if on 8170e6bed465 under Xen (lib/linux/what-if.ts): 'guard-user-pgd',
   * 'no-reload-under-xen', 'pf-gate-early' or 'xen-write-cr3-init' (5b5c1af104ab's change)
   */
  whatIf?: WhatIfName;
  /** the same as whatIf: 'pf-gate-early' (3.8's gate order with 8170e6bed465's CR3 load); kept for old notebooks */
  trapsEarly?: boolean;
  /**
   * Xen: the release ('4.2.0' default, '4.2.2' or '4.1.5-pre'), XSA patches (default none), a
   * debug build, Xen's command line; refused on bare metal
   */
  xen?: XenConfig;
  /** the machine: its e820 map (domid 0 only) */
  host?: HostConfig;
  /** domid 0: what construct_dom0 is given (pages, allocStart, initrdBytes, vcpus) */
  dom0?: Dom0Config;
}

export interface NormalizedConfig {
  variant: VariantId;
  platform: Platform;
  memoryBytes: number;
  domid: number;
  pcpu: number;
  structPageSize: 56 | 64;
  gbpages: boolean;
  /** the what-if applied, or null */
  whatIf: WhatIfName | null;
  /** whatIf === 'pf-gate-early' */
  trapsEarly: boolean;
  xenRelease: XenRelease;
  xenPatches: XenPatch[];
  /** a debug build of Xen */
  xenDebug: boolean;
  /** Xen's command line */
  xenCmdline: string;
  /** the host's e820 map (domid 0), or null */
  hostE820: NormalizedHostConfig['hostE820'];
  /** the host CPU's VMX is on (CR4.VMXE) */
  hostVmx: boolean;
  /** construct_dom0's inputs (domid 0), or null */
  dom0: NormalizedHostConfig['dom0'];
}

const MIN_MEMORY = 64 * 2 ** 20;
const MAX_MEMORY = 2 ** 40;
const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** Parses '2G', '512M', '1T', '4096K' or a byte count; the result is a multiple of 2 MiB. */
export function parseMemorySize(value: unknown): number {
  let bytes: number;
  if (typeof value === 'number') {
    bytes = value;
  } else if (typeof value === 'string') {
    const m = /^\s*(\d+)\s*([KMGT]?)i?B?\s*$/i.exec(value);
    if (m === null) {
      throw new LabError('BAD_CONFIG', `memory must be a size like '2G', '512M' or '1T', or a number of bytes; got ${describeValue(value)}`);
    }
    bytes = Number(m[1]) * UNITS[m[2].toUpperCase()];
  } else {
    throw new LabError('WRONG_TYPE', `memory must be a string like '2G' or a number of bytes; got ${describeValue(value)}`);
  }
  if (!Number.isInteger(bytes) || bytes < MIN_MEMORY || bytes > MAX_MEMORY || bytes % (2 * 2 ** 20) !== 0) {
    throw new LabError('BAD_CONFIG', `memory must be a multiple of 2 MiB from 64M to 1T; got ${describeValue(value)}`);
  }
  return bytes;
}

export function normalizeConfig(config: BootConfig = {}): NormalizedConfig {
  if (typeof config !== 'object' || config === null) {
    throw new LabError('WRONG_TYPE', `config must be an object like { variant: '8170e6bed465', platform: 'xen' }; got ${describeValue(config)}`);
  }
  const known = ['variant', 'platform', 'memory', 'domid', 'pcpu', 'structPageSize', 'gbpages', 'whatIf', 'trapsEarly', 'xen', 'host', 'dom0'];
  for (const key of Object.keys(config)) {
    if (!known.includes(key)) throw new LabError('BAD_CONFIG', `unknown config key ${JSON.stringify(key)}; allowed: ${known.join(', ')}`);
  }
  const variant = config.variant ?? '8170e6bed465';
  if (!(VARIANT_IDS as readonly string[]).includes(variant)) {
    throw new LabError('UNKNOWN_VARIANT', `variant must be one of ${VARIANT_IDS.join(', ')}; got ${describeValue(variant)}`);
  }
  const platform = config.platform ?? 'xen';
  if (platform !== 'xen' && platform !== 'bare-metal') {
    throw new LabError('UNKNOWN_PLATFORM', `platform must be 'xen' or 'bare-metal'; got ${describeValue(platform)}`);
  }
  const structPageSize = config.structPageSize ?? 56;
  if (!(STRUCT_PAGE_SIZES as readonly number[]).includes(structPageSize)) {
    throw new LabError('BAD_CONFIG', `structPageSize must be 56 or 64; got ${describeValue(structPageSize)}`);
  }
  const whatIf = normalizeWhatIf(config, variant as VariantId, platform);
  const xen = normalizeXenConfig(config.xen, platform);
  const domid = config.domid === undefined ? 7 : expectInteger('domid', config.domid, 0, 32751);
  if (domid === 0 && platform !== 'xen') throw new LabError('BAD_CONFIG', 'domid 0 (dom0) needs platform \'xen\'');
  const hostCfg = normalizeHostConfig(config.host, config.dom0, platform, domid);
  if (hostCfg.hostE820 !== null && config.memory !== undefined) {
    throw new LabError('BAD_CONFIG', 'memory and host.e820 cannot both be given: with a machine map, the map decides the memory (and dom0.pages what dom0 gets)');
  }
  return {
    variant: variant as VariantId,
    platform,
    memoryBytes: parseMemorySize(config.memory ?? '2G'),
    domid,
    pcpu: config.pcpu === undefined ? 3 : expectInteger('pcpu', config.pcpu, 0, 255),
    structPageSize: structPageSize as 56 | 64,
    gbpages: expectBoolean('gbpages', config.gbpages, true) ?? false,
    whatIf,
    trapsEarly: whatIf === 'pf-gate-early',
    ...xen,
    ...hostCfg,
  };
}

/** whatIf (or the older trapsEarly: true), checked against the variant and platform. */
function normalizeWhatIf(config: BootConfig, variant: VariantId, platform: Platform): WhatIfName | null {
  const early = expectBoolean('trapsEarly', config.trapsEarly, true) ?? false;
  let name: WhatIfName | null = null;
  if (config.whatIf !== undefined) name = whatIfByName(config.whatIf).name;
  if (early) {
    if (name !== null && name !== 'pf-gate-early') {
      throw new LabError('BAD_CONFIG', `trapsEarly: true is the what-if 'pf-gate-early'; it cannot go with whatIf '${name}'`);
    }
    name = 'pf-gate-early';
  }
  if (name !== null) checkWhatIfApplies(whatIfByName(name), variant, platform);
  return name;
}
