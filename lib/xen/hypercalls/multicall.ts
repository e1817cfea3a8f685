/**
 * do_multicall: runs each entry's hypercall in order and writes its return value into the
 * entry's `result`; a failing entry does not stop the batch, and do_multicall itself returns 0.
 * A multicall inside a multicall is refused ("Multicall reentry is disallowed.", -EINVAL in
 * that entry). An op beyond the hypercall table gets -ENOSYS.
 * // xen/common/multicall.c, xen/include/asm-x86/multicall.h (Xen 4.2.0)
 */
import type { Vcpu } from '../domain';

/** A parsed multicall entry: runs the call and returns its result. */
export interface PreparedCall {
  run(): number;
  /**
   * true when the call can change no translation the vCPUs may have cached (see hypercallEntry),
   * so their TLBs are kept
   */
  keepsTranslations?: boolean;
}

export function do_multicall(v: Vcpu, calls: readonly PreparedCall[], results: (i: number, rc: number) => void): number {
  v.inMulticall = true;
  try {
    for (let i = 0; i < calls.length; i++) results(i, calls[i].run());
  } finally {
    v.inMulticall = false;
  }
  return 0;
}
