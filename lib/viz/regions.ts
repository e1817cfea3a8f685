/**
 * Region names for addresses: a lookup function, or a table of ranges turned into one. The lab
 * passes Linux's layout (direct map, vmalloc, vmemmap, kernel text, modules, fixmap, Xen's hole);
 * lib/viz only looks names up.
 */
import { LabError, describeValue } from '../errors';
import { parseU64 } from '../x86/address';
import type { RegionLookup, RegionRange } from './types';

/** A lookup over ranges (start and end inclusive); the first range that holds the address wins. */
export function regionLookupFromTable(ranges: readonly RegionRange[]): RegionLookup {
  if (!Array.isArray(ranges)) {
    throw new LabError('WRONG_TYPE', `ranges must be an array of { name, start, end }; got ${describeValue(ranges)}`);
  }
  const parsed = ranges.map((r, i) => {
    if (typeof r !== 'object' || r === null || typeof r.name !== 'string') {
      throw new LabError('WRONG_TYPE', `ranges[${i}] must be { name: string, start, end }; got ${describeValue(r)}`);
    }
    const start = parseU64(`ranges[${i}].start`, r.start);
    const end = parseU64(`ranges[${i}].end`, r.end);
    if (end < start) {
      throw new LabError('VALUE_OUT_OF_RANGE',
        `ranges[${i}] (${r.name}) ends at 0x${end.toString(16)} before it starts at 0x${start.toString(16)}; end is the last address, inclusive`);
    }
    return { name: r.name, start, end };
  });
  return (address: string) => {
    const a = BigInt(`0x${address}`);
    for (const r of parsed) if (a >= r.start && a <= r.end) return r.name;
    return undefined;
  };
}

/** Accepts a lookup function, a table of ranges, or nothing. */
export function toRegionLookup(name: string, value: RegionLookup | readonly RegionRange[] | undefined): RegionLookup | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'function') return value;
  if (Array.isArray(value)) return regionLookupFromTable(value);
  throw new LabError('WRONG_TYPE', `${name} must be a function (address) => name, an array of { name, start, end } or left out; got ${describeValue(value)}`);
}
