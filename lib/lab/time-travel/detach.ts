/**
 * A copy of a run's machine that stays as it is while the run moves on: what `run.at(step)` hands
 * out. The kernel, memory, CPU and Xen's objects are deep copies (graph-state.ts cloneGraph); the
 * platform's functions are rebuilt over the copies (the run's own ones close over the run's
 * objects). The copy cannot run: it is for looking at (walks, dumps, the trap table, the result).
 */
import { LabError } from '../../errors';
import type { Machine, PlatformInstance } from '../machine';
import { cloneGraph } from './graph-state';

export function detachMachine(m: Machine): Machine {
  const p = m.platform;
  const k = m.kernel;
  const c = cloneGraph({ kernel: k, cpu: p.cpu, memory: p.memory, xen: p.xen }, new Set<object>([k.variant, k.image, k.page]));
  const cr3 = p.currentCr3();
  const xenConsole = p.xenConsole();
  const x = c.xen;
  const platform: PlatformInstance = {
    cpu: c.cpu,
    memory: c.memory,
    start: () => { throw new LabError('INVALID_STATE', 'a view of a run at one step cannot run'); },
    currentCr3: () => cr3,
    xenConsole: () => xenConsole.slice(),
    machineToGuest: x === null ? (f) => f : (mfn) => x.vcpu.mfnToPfn(mfn),
    guestToMachine: x === null ? (pfn) => pfn : (pfn) => x.domain.pfnToMfn(pfn),
    pageType: x === null ? () => null : (mfn) => x.host.frameTable.typeName(mfn),
    xen: x,
  };
  return { kernel: c.kernel, platform };
}
