/**
 * Where a page-table entry's value came from: every write to the entry that translates an address
 * at one level, found by replaying the run from its start with a watch on the entry's machine
 * address (entry-watch.ts), not by recording every write of every boot.
 */
import { LabError, describeValue, expectInteger } from '../../errors';
import { parseVirtualAddress, tableIndex } from '../../x86/address';
import { PTE_P, PTE_PS, entryAddress } from '../../x86/pte';
import type { Machine } from '../machine';
import { EntryWatch, type EntryWrite } from './entry-watch';
import { stopAtStep, toTheEnd, type Outcome, type StopRule } from './replay';
import type { TraceProbe } from './probed-trace';

export type { EntryWrite } from './entry-watch';

const LEVEL_NAMES = ['', 'L1 (PTE)', 'L2 (PDE)', 'L3 (PDPTE)', 'L4 (PML4E)'];

/**
 * The machine address of the entry that translates `va48` at `level` in the tables under `cr3`;
 * INVALID_STATE when a level above it is not present or maps a large page (there is no such entry).
 */
export function entryAddressAt(m: Machine, va48: number, level: number): number {
  const frames = m.platform.memory.frames;
  let table = Math.floor(m.platform.currentCr3() / 4096);
  for (let l = 4; ; l--) {
    const pa = table * 4096 + tableIndex(va48, l) * 8;
    if (l === level) return pa;
    const w = frames.get(table);
    const lo = w === undefined ? 0 : w[(pa % 4096) / 4];
    const hi = w === undefined ? 0 : w[(pa % 4096) / 4 + 1];
    if ((lo & PTE_P) === 0) {
      throw new LabError('INVALID_STATE', `no ${LEVEL_NAMES[level]} translates this address now: its ${LEVEL_NAMES[l]} at machine address 0x${pa.toString(16)} is not present`);
    }
    if (l < 4 && (lo & PTE_PS) !== 0) {
      throw new LabError('INVALID_STATE', `no ${LEVEL_NAMES[level]} translates this address now: its ${LEVEL_NAMES[l]} maps a large page`);
    }
    table = Math.floor(entryAddress(lo, hi) / 4096);
  }
}

/** Checks entryHistory's arguments (before anything runs). */
export function checkEntryArgs(va: unknown, level: unknown): { va48: number; level: number } {
  if (typeof va !== 'bigint' && typeof va !== 'string') {
    throw new LabError('WRONG_TYPE', `va must be a bigint or a hex string like 'ffffea0000000000'; got ${describeValue(va)}`);
  }
  return { va48: parseVirtualAddress('va', va), level: expectInteger('level', level, 1, 4) };
}

/** How the run stands now, so the watched replay stops at the same point. */
export interface RunPoint {
  machine: Machine;
  outcome: Outcome;
  step: number;
}

/** Replays the run from its step 0 with a probe on its trace, to the point `stop` names (timeline.ts). */
export type WatchedMove = (stop: StopRule, probe: TraceProbe, onStart: (m: Machine) => void) => void;

/**
 * Every write to the entry for `va48` at `level` in the tables of the current CR3, from the start
 * of the run to `now`. Cost: one replay of the run from step 0 (the platform as built, kept as the
 * first checkpoint) up to now with the watch on, which leaves the run where it was: about the time
 * the run's kernel took to get here, a little more for the watch (bench/timetravel.ts), and memory
 * for the writes found only.
 */
export function entryHistory(move: WatchedMove, now: RunPoint, va48: number, level: number): EntryWrite[] {
  const entryPa = entryAddressAt(now.machine, va48, level);
  const watch = new EntryWatch(entryPa);
  const stop = now.outcome === 'paused' ? stopAtStep(now.step) : toTheEnd;
  move(stop, watch, (m) => watch.attach(m.platform.memory, m.kernel, m.platform.xen !== null
    ? { routine: 'xc_dom_build_image', via: 'the domain builder' }
    : { routine: '(boot loader)', via: 'the boot loader (the image\'s static page tables)' }));
  return watch.writes;
}
