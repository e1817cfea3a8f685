/**
 * A hash of a run's state: machine memory, Xen's state (frame table, M2P of the guest's frames,
 * vCPU 0's registers, CR3, trap table and callbacks, console), the kernel's globals, stack and
 * console, and the whole trace (events, routine log, counters). Two runs with equal hashes stand
 * in the same state; the time-travel tests compare them after moving a run back and forth.
 */
import type { Machine } from '../machine';
import type { TraceRecorder } from '../../trace/recorder';

/** FNV-1a over 32-bit words, kept as two 32-bit lanes for fewer collisions. */
class Fnv {
  private a = 0x811c9dc5;
  private b = 0x01000193 ^ 0x5bd1e995;
  word(w: number): void {
    this.a = Math.imul(this.a ^ (w >>> 0), 0x01000193) >>> 0;
    this.b = Math.imul(this.b ^ ((w >>> 16) | (w << 16)), 0x01000193) >>> 0;
  }
  words(ws: ArrayLike<number>): void {
    for (let i = 0; i < ws.length; i++) this.word(ws[i]);
  }
  text(s: string): void {
    for (let i = 0; i < s.length; i++) this.word(s.charCodeAt(i));
    this.word(0xffffffff);
  }
  get value(): string {
    return this.a.toString(16).padStart(8, '0') + this.b.toString(16).padStart(8, '0');
  }
}

const json = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));

/** Hashes of the parts of a state, and of the whole. */
export interface StateHash {
  memory: string;
  xen: string;
  kernel: string;
  trace: string;
  all: string;
}

export function stateHash(m: Machine | null, trace: TraceRecorder): StateHash {
  const mem = new Fnv();
  const xen = new Fnv();
  const kernel = new Fnv();
  const tr = new Fnv();
  if (m !== null) {
    const frames = [...m.platform.memory.frames.keys()].sort((x, y) => x - y);
    for (const f of frames) {
      const w = m.platform.memory.frames.get(f) as Uint32Array;
      let zero = true;
      for (let i = 0; i < w.length && zero; i++) zero = w[i] === 0;
      if (zero) continue; // a frame that only holds zeros reads as an absent one
      mem.word(f);
      mem.words(w);
    }
    const x = m.platform.xen;
    if (x !== null) {
      const ft = x.host.frameTable;
      xen.words(ft.owner);
      xen.words(ft.typeInfo);
      xen.words(ft.typeCount);
      xen.words(ft.refCount);
      for (let pfn = 0; pfn < m.kernel.memoryBytes / 4096; pfn++) {
        const mfn = x.domain.pfnToMfn(pfn);
        xen.text(x.host.m2p.entry(mfn).toString(16));
      }
      xen.text(json(x.vcpu.regs));
      xen.word(x.vcpu.cr3Mfn);
      xen.text(json(x.vcpu.trapCtxt));
      xen.text(json([x.vcpu.eventCallback, x.vcpu.failsafeCallback]));
      xen.text(json(x.host.console.lines));
      xen.text(json([x.domain.isShuttingDown, x.domain.shutdownCode, x.domain.vmAssist]));
    }
    kernel.text(json(m.kernel.g));
    kernel.text(json(m.kernel.console));
    kernel.text(json(m.kernel.stack.callChain));
    kernel.word(m.kernel.steps);
    kernel.word(m.platform.currentCr3());
  }
  tr.text(json(trace.events));
  for (const e of trace.routines.events()) tr.text(json(e));
  tr.text(json(trace.counters));
  tr.text(json([...trace.countersByPhase]));
  tr.word(trace.now);
  const all = new Fnv();
  for (const h of [mem, xen, kernel, tr]) all.text(h.value);
  return { memory: mem.value, xen: xen.value, kernel: kernel.value, trace: tr.value, all: all.value };
}
