/** Time travel over a run: the types run.stepBack/at/entryHistory/trapTableHistory/explainFault give back. */
export { RunAtStep } from './view';
export type { EntryWrite } from './entry-watch';
export type { TrapTableEntry, TrapTableChange } from './trap-table';
export type { FaultExplanation, XenWalkLevel } from './fault-explanation';
export { stateHash, type StateHash } from './state-hash';
