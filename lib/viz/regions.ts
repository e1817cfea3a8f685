/**
 * Region names for addresses: a lookup function taking bits 47:0 of the address as a number
 * (lib/linux's regionName), or a table of ranges turned into one. lib/viz only looks names up.
 */
import { LabError, describeValue } from '../errors';
import { canonicalAddress, parseU64 } from '../x86/address';
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
  return (va48: number) => {
    const a = canonicalAddress(va48);
    for (const r of parsed) if (a >= r.start && a <= r.end) return r.name;
    return undefined;
  };
}

/** Accepts a lookup function, a table of ranges, or nothing. */
export function toRegionLookup(name: string, value: RegionLookup | readonly RegionRange[] | undefined): RegionLookup | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'function') return value;
  if (Array.isArray(value)) return regionLookupFromTable(value);
  throw new LabError('WRONG_TYPE', `${name} must be a function (va48) => name (lib/linux's regionName fits), an array of { name, start, end } or left out; got ${describeValue(value)}`);
}
