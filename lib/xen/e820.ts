/**
 * The machine's memory map as Xen reads it from the boot loader (e820) and prints it under
 * "Xen-e820 RAM map:": one line per range, " %016Lx - %016Lx (type)", the end exclusive. A host
 * takes the map as data, either as `{ start, end, type }` entries (end exclusive, like Xen's
 * line) or as the text Xen printed (pasted from a boot log). The map must be sorted, without
 * overlaps, and hold some RAM; anything else is refused before a host is built.
 * // xen/arch/x86/e820.c (print_e820_memory_map), xen/include/asm-x86/e820.h (Xen 4.1.5-pre)
 */
import { LabError, describeValue } from '../errors';

export const E820_RAM = 1;
export const E820_RESERVED = 2;
export const E820_ACPI = 3;
export const E820_NVS = 4;
export const E820_UNUSABLE = 5;

/** The names print_e820_memory_map gives the types (a user may write them or the numbers). */
export const E820_TYPE_NAMES: Readonly<Record<number, string>> = {
  [E820_RAM]: 'usable', [E820_RESERVED]: 'reserved', [E820_ACPI]: 'ACPI data', [E820_NVS]: 'ACPI NVS', [E820_UNUSABLE]: 'unusable',
};

/** One range of the map: [start, end) in bytes, and its E820 type (1..5). */
export interface E820Entry {
  start: number;
  end: number;
  type: number;
}

/** What a user may pass as one entry: numbers, bigints or hex strings; a type number or name. */
export interface E820EntryInput {
  start: number | bigint | string;
  end: number | bigint | string;
  type: number | string;
}

/** Machine addresses the model takes: below 2^52 (MAXPHYADDR 52), so a double holds them exactly. */
const MAX_ADDRESS = 2 ** 52;

function addressOf(where: string, v: unknown): number {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'bigint') n = Number(v);
  else if (typeof v === 'string' && /^\s*(0x)?[0-9a-f]+\s*$/i.test(v)) n = parseInt(v.trim().replace(/^0x/i, ''), 16);
  else throw new LabError('WRONG_TYPE', `${where} must be a number, bigint or hex string; got ${describeValue(v)}`);
  if (!Number.isInteger(n) || n < 0 || n > MAX_ADDRESS) {
    throw new LabError('BAD_CONFIG', `${where} must be a whole number of bytes from 0 to 2^52; got ${describeValue(v)}`);
  }
  return n;
}

function typeOf(where: string, v: unknown): number {
  if (typeof v === 'number' && E820_TYPE_NAMES[v] !== undefined) return v;
  if (typeof v === 'string') {
    for (const [t, name] of Object.entries(E820_TYPE_NAMES)) if (name === v) return Number(t);
  }
  throw new LabError('BAD_CONFIG',
    `${where} must be one of ${Object.entries(E820_TYPE_NAMES).map(([t, n]) => `${t} '${n}'`).join(', ')}; got ${describeValue(v)}`);
}

/**
 * Parses the lines Xen prints under "Xen-e820 RAM map:" (" 0000000000000000 - 000000000009ec00
 * (usable)"); a "(XEN)" prefix, mail quoting ("> ") and the header line are allowed, blank lines
 * skipped. Any other line is refused, naming its number and text.
 */
export function parseXenE820Text(text: string): E820Entry[] {
  const out: E820Entry[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.replace(/^(\s*>)*\s*/, '').replace(/^\(XEN\)\s*/, '').trim();
    if (line === '' || /^Xen-e820 RAM map:$/.test(line)) return;
    const m = /^([0-9a-f]{1,16})\s+-\s+([0-9a-f]{1,16})\s+\((usable|reserved|ACPI data|ACPI NVS|unusable)\)$/i.exec(line)
      ?? /^([0-9a-f]{1,16})\s+-\s+([0-9a-f]{1,16})\s+type\s+(\d+)$/.exec(line);
    if (m === null) {
      throw new LabError('BAD_CONFIG',
        `host.e820 line ${i + 1} is not a line of Xen's e820 map (" <start hex> - <end hex> (usable|reserved|ACPI data|ACPI NVS|unusable)"): ${JSON.stringify(raw)}`);
    }
    const type = /^\d+$/.test(m[3]) ? Number(m[3]) : m[3];
    out.push({ start: addressOf(`host.e820 line ${i + 1} start`, m[1]), end: addressOf(`host.e820 line ${i + 1} end`, m[2]), type: typeOf(`host.e820 line ${i + 1} type`, type) });
  });
  return out;
}

/**
 * The host's map from an array of entries or Xen's text, checked: each range non-empty, the
 * ranges sorted and not overlapping, at least one page of RAM.
 */
export function normalizeE820(input: unknown): E820Entry[] {
  let entries: E820Entry[];
  if (typeof input === 'string') {
    entries = parseXenE820Text(input);
  } else if (Array.isArray(input)) {
    entries = input.map((e: unknown, i) => {
      if (typeof e !== 'object' || e === null) {
        throw new LabError('WRONG_TYPE', `host.e820[${i}] must be { start, end, type }; got ${describeValue(e)}`);
      }
      const x = e as Record<string, unknown>;
      for (const k of Object.keys(x)) {
        if (!['start', 'end', 'type'].includes(k)) throw new LabError('BAD_CONFIG', `host.e820[${i}]: unknown key ${JSON.stringify(k)}; allowed: start, end, type`);
      }
      return { start: addressOf(`host.e820[${i}].start`, x.start), end: addressOf(`host.e820[${i}].end`, x.end), type: typeOf(`host.e820[${i}].type`, x.type) };
    });
  } else {
    throw new LabError('WRONG_TYPE', `host.e820 must be an array of { start, end, type } or the text Xen prints under "Xen-e820 RAM map:"; got ${describeValue(input)}`);
  }
  if (entries.length === 0) throw new LabError('BAD_CONFIG', 'host.e820 holds no ranges');
  const hex = (n: number): string => n.toString(16).padStart(16, '0');
  entries.forEach((e, i) => {
    if (e.end <= e.start) throw new LabError('BAD_CONFIG', `host.e820 range ${i} (${hex(e.start)} - ${hex(e.end)}) is empty or ends before it starts`);
    if (i > 0 && e.start < entries[i - 1].end) {
      const p = entries[i - 1];
      throw new LabError('BAD_CONFIG',
        `host.e820 ranges ${i - 1} and ${i} are unsorted or overlap (${hex(p.start)} - ${hex(p.end)}, then ${hex(e.start)} - ${hex(e.end)}): give them in address order, each starting at or after the previous end`);
    }
  });
  const ramPages = entries.filter((e) => e.type === E820_RAM).reduce((n, e) => n + Math.max(0, Math.floor(e.end / 4096) - Math.ceil(e.start / 4096)), 0);
  if (ramPages === 0) throw new LabError('BAD_CONFIG', 'host.e820 has no RAM (no whole page of type 1, usable)');
  return entries;
}

// xen/arch/x86/e820.c (Xen 4.1.5-pre): the lines under "Xen-e820 RAM map:"
export function print_e820_memory_map(map: readonly E820Entry[]): string[] {
  const hex = (n: number): string => n.toString(16).padStart(16, '0');
  return map.map((e) => ` ${hex(e.start)} - ${hex(e.end)} ${E820_TYPE_NAMES[e.type] !== undefined ? `(${E820_TYPE_NAMES[e.type]})` : `type ${e.type}`}`);
}

/** The highest end of a RAM range, in pages (init_e820's max_page, without clipping). */
export function e820MaxRamPfn(map: readonly E820Entry[]): number {
  let top = 0;
  for (const e of map) if (e.type === E820_RAM) top = Math.max(top, Math.floor(e.end / 4096));
  return top;
}

/** The RAM pages of the map (whole pages inside usable ranges). */
export function e820RamPages(map: readonly E820Entry[]): number {
  return map.filter((e) => e.type === E820_RAM).reduce((n, e) => n + Math.max(0, Math.floor(e.end / 4096) - Math.ceil(e.start / 4096)), 0);
}

/**
 * XENMEM_machine_memory_map for dom0 (arch_memory_op): the map's entries in order, and before
 * each, and after the last, a reserved entry for every run of frames in the gap that dom0 has no
 * iomem access to (handle_iomem_range over the complement of d->iomem_caps). `denied` lists the
 * frames construct_dom0 took away (the local APIC's, each IO-APIC's, unusable ranges above 1 MiB).
 * // xen/arch/x86/mm.c (Xen 4.1.5-pre)
 */
export function machine_memory_map(map: readonly E820Entry[], denied: readonly number[]): E820Entry[] {
  const out: E820Entry[] = [];
  const sorted = [...new Set(denied)].sort((a, b) => a - b);
  // the denied frames as runs [s, e]
  const runs: [number, number][] = [];
  for (const f of sorted) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last[1] + 1 === f) last[1] = f; else runs.push([f, f]);
  }
  let s = 0; // ctxt.s: the first frame not yet reported
  // handle_iomem_range(a, b): a reserved entry for [s, a) when a > s, then s = b + 1
  const handle = (a: number, b: number): void => {
    if (a > s) out.push({ start: s * 4096, end: a * 4096, type: E820_RESERVED });
    s = b + 1;
  };
  // rangeset_report_ranges(iomem_caps, from, to): the PERMITTED runs inside [from, to]
  const reportPermitted = (from: number, to: number): void => {
    let f = from;
    for (const [a, b] of runs) {
      if (b < f) continue;
      if (a > to) break;
      if (a > f) handle(f, Math.min(a - 1, to));
      f = b + 1;
    }
    if (f <= to) handle(f, to);
  };
  for (const e of map) {
    const sfn = Math.floor(e.start / 4096);
    if (sfn !== 0) {
      reportPermitted(s, sfn - 1);
      handle(sfn, sfn);
    }
    out.push({ ...e });
    s = Math.ceil(e.end / 4096);
  }
  if (s !== 0) {
    const last = Number.MAX_SAFE_INTEGER;
    reportPermitted(s, last - 1);
    handle(last, last);
  }
  return out;
}
