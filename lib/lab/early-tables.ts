/**
 * An experiment on the bare-metal early #PF handler of 8170e6bed465: boot to start_kernel (the
 * handler is live, CR3 still holds early_level4_pgt), then touch `gigabytes` different GiB of the
 * direct map, as code running that early could, and record how many early_dynamic_pgts pages are
 * in use after each touch and when early_make_pgtable wipes them all and starts over.
 */
import { LabError, describeValue } from '../errors';
import { early_make_pgtable } from '../linux/boot/head64';
import { EARLY_DYNAMIC_PAGE_TABLES, __PAGE_OFFSET } from '../linux/layout';
import { boot } from './boot';

export interface EarlyTablesExperiment {
  /** early page tables in use after each touch (next_early_pgt) */
  inUse: number[];
  /** the touch (0-based) after which each reset happened */
  resetsAfter: number[];
  /** EARLY_DYNAMIC_PAGE_TABLES */
  capacity: number;
}

export function earlyTablesExperiment(gigabytes: number, memory: string | number = '1T'): EarlyTablesExperiment {
  if (typeof gigabytes !== 'number' || !Number.isInteger(gigabytes) || gigabytes < 1 || gigabytes > 4096) {
    throw new LabError('VALUE_OUT_OF_RANGE', `gigabytes must be an integer from 1 to 4096; got ${describeValue(gigabytes)}`);
  }
  const run = boot({ variant: '8170e6bed465', platform: 'bare-metal', memory }).runTo('start_kernel');
  const k = run.current!.kernel;
  const inUse: number[] = [];
  const resetsAfter: number[] = [];
  for (let i = 0; i < gigabytes; i++) {
    const before = k.g.early_pgt_resets;
    early_make_pgtable(k, __PAGE_OFFSET + (i + 2) * 2 ** 30);
    if (k.g.early_pgt_resets > before) resetsAfter.push(i);
    inUse.push(k.g.next_early_pgt);
  }
  return { inUse, resetsAfter, capacity: EARLY_DYNAMIC_PAGE_TABLES };
}
