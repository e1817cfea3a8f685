/**
 * MEM_LOG: Xen's mm.c reports a guest's refused request with gdprintk(XENLOG_WARNING, ...), i.e.
 * "(XEN) mm.c:<line>:d<current domain> <message>". A guest-level warning is printed on a release
 * build only while printk_ratelimit() allows: a burst of 10 messages, then one per 5 seconds
 * (console.c: printk_ratelimit_ms 5000, printk_ratelimit_burst 10). The model has no clock, so
 * after the burst every further message is counted as suppressed (host.console.suppressed). A
 * debug build prints them all (guest log thresholds 4).
 * The line printed is the host release's (lib/xen/release.ts: mm.c at RELEASE-4.2.0 or 4.2.2).
 * // xen/arch/x86/mm.c (MEM_LOG), xen/include/xen/config.h (gdprintk), xen/drivers/char/console.c (Xen 4.2.0)
 */
import type { XenHost } from './host';
import type { MemLogSite } from './release';
import { PGT_partial, PGT_pinned, PGT_type_mask, PGT_validated } from './page-info';
import { XEN_RESERVED_FRAMES } from './host';

/** printk_ratelimit_burst */
export const printk_ratelimit_burst = 10;

/** MEM_LOG(fmt, ...) at call site `site` of mm.c, in the context of the current domain. */
export function MEM_LOG(host: XenHost, site: MemLogSite, message: string): void {
  host.console.guestWarning(`mm.c:${host.memLogLine(site)}:d${host.currentDomid} ${message}\n`, host.debug);
}

/** %lx */
export function lx(v: number | bigint): string {
  return BigInt.asUintN(64, BigInt(v)).toString(16);
}

/** %016lx */
export function x16(v: number | bigint): string {
  return BigInt.asUintN(64, BigInt(v)).toString(16).padStart(16, '0');
}

/** A frame's type_info as Xen holds it (type << 60 | flags | count), for "taf=%" PRtype_info. */
export function type_info(host: XenHost, mfn: number): bigint {
  const ft = host.frameTable;
  const t = ft.typeInfo[mfn];
  let v = BigInt(t & PGT_type_mask) << 60n;
  if (t & PGT_pinned) v |= 1n << 59n;
  if (t & PGT_validated) v |= 1n << 58n;
  if (t & PGT_partial) v |= 1n << 56n;
  return v | BigInt(ft.typeCountOf(mfn));
}

/** A frame's count_info (PGC_allocated | PGC_xen_heap | count), for "caf=%08lx". */
export function count_info(host: XenHost, mfn: number): bigint {
  const ft = host.frameTable;
  let v = BigInt(ft.refCountOf(mfn));
  if (ft.ownerOf(mfn) !== null && ft.refCountOf(mfn) > 0) v |= 1n << 63n;
  if (mfn < XEN_RESERVED_FRAMES) v |= 1n << 62n;
  return v;
}
