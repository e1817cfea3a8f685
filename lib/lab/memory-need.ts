/**
 * How much of this machine's memory a boot needs, so that a boot or a sweep too big for it is
 * refused up front (LabError 'NOT_ENOUGH_MEMORY') instead of running for minutes and dying.
 *
 * Under Xen the model keeps, per 4 KiB page of guest memory: the guest's p2m (mfn_list, 8 bytes),
 * the direct map's L1 entries (8 bytes: Xen PV has no 2 MiB pages for the guest), the frame
 * table's per-frame state (5 bytes), the vmemmap's L1 entries (sizeof(struct page) / 512 bytes),
 * and the run's trace (page-fault and hypercall events, the routine log; about 8 bytes, measured by
 * `npm run bench -- boot`). On bare metal the direct map and the vmemmap use 2 MiB and 1 GiB pages
 * and the boot keeps next to nothing per page. Add the process's fixed cost (node, the code, the
 * JIT): FIXED_BYTES.
 */
import { freemem } from 'node:os';
import { LabError } from '../errors';
import { KERNEL_IMAGE } from '../linux/image';
import { __START_KERNEL_map } from '../linux/layout';
import { maxPvDomainPages } from '../xen/initial-mapping';

/** Node, the library and a small boot's state: measured as about 130 MiB; rounded up. */
export const FIXED_BYTES = 160 * 2 ** 20;
/** Bytes per guest page under Xen besides the struct page share: p2m 8 + L1 8 + frame table 5 + trace 8. */
const XEN_BYTES_PER_PAGE = 29;
/** Bytes per guest page on bare metal (the trace and a few tables; measured under 0.1). */
const BARE_METAL_BYTES_PER_PAGE = 0.1;

/** What a boot of `memory` bytes on `platform` needs at its peak, in bytes (an estimate, rounded up). */
export function bootBytesNeeded(platform: 'xen' | 'bare-metal', memoryBytes: number, structPageSize = 64): number {
  const pages = memoryBytes / 4096;
  const perPage = platform === 'xen' ? XEN_BYTES_PER_PAGE + structPageSize / 512 : BARE_METAL_BYTES_PER_PAGE;
  return Math.ceil(FIXED_BYTES + pages * perPage);
}

/**
 * The memory this process may use: PVOPS_LAB_MEMORY_LIMIT (bytes, or a size like '8G') when set,
 * else what the operating system reports available (os.freemem()).
 */
export function memoryAvailable(): number {
  const env = process.env.PVOPS_LAB_MEMORY_LIMIT;
  if (env !== undefined && env !== '') {
    const n = /^\d+$/.test(env) ? Number(env) : parseMemorySizeLoose(env);
    if (!Number.isFinite(n) || n <= 0) {
      throw new LabError('BAD_CONFIG', `PVOPS_LAB_MEMORY_LIMIT must be a byte count or a size like '8G' or '512M'; got '${env}'`);
    }
    return n;
  }
  return freemem();
}

/** Throws NOT_ENOUGH_MEMORY when `needed` bytes exceed what is available; `what` names the work. */
export function checkMemoryFits(what: string, needed: number, available = memoryAvailable()): void {
  if (needed > available) {
    throw new LabError('NOT_ENOUGH_MEMORY',
      `${what} needs about ${formatBytes(needed)} of memory; this machine has ${formatBytes(available)} available` +
      `${process.env.PVOPS_LAB_MEMORY_LIMIT ? ' (PVOPS_LAB_MEMORY_LIMIT)' : ''}. Use a smaller memory size, or free memory first`);
  }
}

/** '6.2 GiB', '740 MiB' */
export function formatBytes(n: number): string {
  return n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : `${Math.ceil(n / 2 ** 20)} MiB`;
}

function parseMemorySizeLoose(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT])i?B?$/i.exec(s.trim());
  if (m === null) return NaN;
  const unit = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 }[m[2].toUpperCase() as 'K' | 'M' | 'G' | 'T'];
  return Math.floor(Number(m[1]) * unit);
}

/**
 * The largest guest the Xen 4.2 domain builder can lay out for the modelled kernel: its p2m list
 * follows the kernel in the top 2 GiB of the address space (see lib/xen/initial-mapping.ts),
 * which caps a 64-bit PV domain at about 1007 GiB. (Past about 494 GiB the domain is built but
 * its guest crashes on boot: libxc 4.2's bootstrap tables break where the mapping crosses
 * 0xffffffffc0000000; see lib/xen/initial-mapping.ts.)
 */
export function xenMaxMemoryBytes(): number {
  const img = KERNEL_IMAGE;
  return maxPvDomainPages(__START_KERNEL_map, img._text / 4096, (img._end - img._text) / 4096) * 4096;
}

/**
 * About the largest guest whose bootstrap mapping stays short of the first GiB's last 2 MiB
 * (0xffffffffbfe00000): past it libxc 4.2's setup_pgtables_x86_64 hooks a second L2 over the
 * first (tools/libxc/xc_dom_x86.c:380, RELEASE-4.2.0) and the guest crashes on boot. "About":
 * the mapping's end is initialMappingEnd's bound, rounded to 4 MiB.
 */
export function xenBootableMemoryBytes(): number {
  const img = KERNEL_IMAGE;
  const lastTwoMiB = (__START_KERNEL_map % 2 ** 48) + 2 ** 30 - 2 ** 21; // 0xffffffffbfe00000, bits 47:0
  return maxPvDomainPages(__START_KERNEL_map, img._text / 4096, (img._end - img._text) / 4096, lastTwoMiB) * 4096;
}

/** Throws BAD_CONFIG for a Xen guest bigger than the builder's initial mapping allows. */
export function checkXenLayoutFits(platform: 'xen' | 'bare-metal', memoryBytes: number): void {
  if (platform !== 'xen') return;
  const max = xenMaxMemoryBytes();
  if (memoryBytes > max) {
    throw new LabError('BAD_CONFIG',
      `memory ${memoryBytes / 2 ** 30} GiB is too big for a Xen 4.2 PV guest of this kernel: the domain builder maps the p2m list ` +
      `(8 bytes a page) after the kernel at __START_KERNEL_map, in the top 2 GiB of the address space, so at most ` +
      `${Math.floor(max / 2 ** 30)} GiB can be laid out, and past about ${Math.floor(xenBootableMemoryBytes() / 2 ** 30)} GiB libxc 4.2's ` +
      `bootstrap tables hook a second L2 over the first, so the guest crashes in xen_start_kernel (bare metal takes up to 1T)`);
  }
}
