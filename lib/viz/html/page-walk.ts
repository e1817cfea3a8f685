/**
 * A page walk drawn as the hardware does it (Intel SDM vol. 3, 4.5): the address split into its
 * indices with their bit ranges, then each level's table, the entry the index selects, the entry's
 * flags decoded and the frame it points to, ending in the page or in the page fault with its
 * error code decoded bit by bit.
 *
 * It reads a walk result (lib/x86 `walk()` returns one); the address is optional, since a result
 * alone carries the indices of the levels it visited but not the offset.
 */
import { LabError, describeValue } from '../../errors';
import { formatVirtualAddress, hex16, parseU64, parseVirtualAddress } from '../../x86/address';
import { decodeErrorCode } from '../../x86/page-fault';
import { decodePte, type PteFields } from '../../x86/pte';
import { toRegionLookup } from '../regions';
import type { PageTypeLookup, RegionLookup, RegionRange } from '../types';
import { escapeHtml as e } from './escape';
import { STYLE, htmlView, type HtmlView } from './view';

/** One level of a walk, as lib/x86 `WalkStep` has it. */
export interface WalkStepView {
  level: 1 | 2 | 3 | 4;
  index: number;
  entryAddress: bigint | string | number;
  entry: bigint | string;
}

/** A walk result, as lib/x86 `WalkResult` has it (fields of both outcomes optional). */
export interface WalkResultView {
  ok: boolean;
  steps: readonly WalkStepView[];
  errorCode?: number;
  kind?: string;
  level?: number;
  pa?: bigint;
  pageSize?: number;
  rights?: { writable: boolean; user: boolean; noExecute: boolean };
}

export interface PageWalkInput {
  result: WalkResultView;
  /** the virtual address walked (bigint or hex string) */
  address?: bigint | string;
  /** the access that was made, for the heading */
  access?: { kind: string; user: boolean };
  /** Xen page types of the frames the tables live in and point to */
  pageType?: PageTypeLookup;
  /** region names (Linux layout) for the heading */
  regions?: RegionLookup | readonly RegionRange[];
}

const TABLE_NAMES = ['', 'page table (PT)', 'page directory (PD)', 'page-directory-pointer table (PDPT)', 'PML4 table'];
const ENTRY_NAMES = ['', 'PTE', 'PDE', 'PDPTE', 'PML4E'];
const SHORT = ['', 'L1', 'L2', 'L3', 'L4'];
const FIELDS = [
  { name: 'sign extension', bits: '63:48', width: 16 },
  { name: 'PML4 index', bits: '47:39', width: 9, level: 4 },
  { name: 'PDPT index', bits: '38:30', width: 9, level: 3 },
  { name: 'PD index', bits: '29:21', width: 9, level: 2 },
  { name: 'PT index', bits: '20:12', width: 9, level: 1 },
  { name: 'page offset', bits: '11:0', width: 12 },
];
const PAGE_SIZE_NAMES: Record<number, string> = { 4096: '4 KiB', 2097152: '2 MiB', 1073741824: '1 GiB' };

/** The flags of an entry with what each bit means, in bit order. */
function flagRows(f: PteFields, level: number): { bit: string; name: string; on: boolean; meaning: string }[] {
  const rows = [
    { bit: '0', name: 'P', on: f.present, meaning: f.present ? 'present' : 'not present: the walk stops here' },
    { bit: '1', name: 'R/W', on: f.writable, meaning: f.writable ? 'writes allowed' : 'read-only' },
    { bit: '2', name: 'U/S', on: f.user, meaning: f.user ? 'user pages allowed' : 'supervisor only' },
    { bit: '3', name: 'PWT', on: f.writeThrough, meaning: 'write-through' },
    { bit: '4', name: 'PCD', on: f.cacheDisable, meaning: 'cache disabled' },
    { bit: '5', name: 'A', on: f.accessed, meaning: 'accessed' },
  ];
  if (level === 1 || f.pageSize) rows.push({ bit: '6', name: 'D', on: f.dirty, meaning: 'dirty (written)' });
  if (level === 2 || level === 3) rows.push({ bit: '7', name: 'PS', on: f.pageSize, meaning: f.pageSize ? `maps a ${level === 2 ? '2 MiB' : '1 GiB'} page` : 'points to a table' });
  if (level === 1) rows.push({ bit: '7', name: 'PAT', on: f.pat, meaning: 'page attribute table' });
  if (level === 1 || f.pageSize) rows.push({ bit: '8', name: 'G', on: f.global, meaning: 'global (kept across CR3 loads)' });
  rows.push({ bit: '63', name: 'XD', on: f.noExecute, meaning: f.noExecute ? 'no instruction fetch' : 'executable' });
  return rows;
}

function checkInput(input: PageWalkInput): void {
  if (typeof input !== 'object' || input === null) {
    throw new LabError('WRONG_TYPE', `input must be { result, address?, access?, pageType?, regions? }; got ${describeValue(input)}`);
  }
  const r = input.result;
  if (typeof r !== 'object' || r === null || typeof r.ok !== 'boolean' || !Array.isArray(r.steps)) {
    throw new LabError('WRONG_TYPE', `input.result must be a walk result { ok, steps } (what walk() returns); got ${describeValue(r)}`);
  }
  if (input.pageType !== undefined && typeof input.pageType !== 'function') {
    throw new LabError('WRONG_TYPE', `input.pageType must be a function (frame) => type or left out; got ${describeValue(input.pageType)}`);
  }
}

/** The page walk view of a walk result. */
export function pageWalkView(input: PageWalkInput): HtmlView {
  checkInput(input);
  const { result } = input;
  const va48 = input.address === undefined ? null : parseVirtualAddress('input.address', input.address);
  const regionOf = toRegionLookup('input.regions', input.regions);
  const steps = result.steps.map((s, i) => {
    const entry = parseU64(`input.result.steps[${i}].entry`, s.entry);
    const entryPa = Number(parseU64(`input.result.steps[${i}].entryAddress`, typeof s.entryAddress === 'number' ? BigInt(s.entryAddress) : s.entryAddress));
    return { level: s.level, index: s.index, entry, entryPa, tablePa: entryPa - s.index * 8, fields: decodePte(entry, s.level) };
  });
  const lastLevel = steps.length === 0 ? 5 : steps[steps.length - 1].level;
  const indexOf = (level: number): number | null => {
    if (va48 !== null) return Math.floor(va48 / 2 ** (12 + 9 * (level - 1))) % 512;
    const s = steps.find((x) => x.level === level);
    return s === undefined ? null : s.index;
  };
  const addressText = va48 === null ? 'an address (indices from the walk)' : formatVirtualAddress(va48);
  const access = input.access === undefined ? '' : ` · ${input.access.user ? 'user' : 'supervisor'} ${input.access.kind}`;
  const region = va48 !== null && regionOf !== undefined ? regionOf(va48) ?? undefined : undefined;
  const title = `Page walk of ${addressText}${access}`;
  const html: string[] = [];
  const text: string[] = [title + (region === undefined ? '' : ` (${region})`)];
  html.push(`<div class="pvops-walk" style="${STYLE.box}">`);
  html.push(`<div style="${STYLE.heading}">Page walk of <span style="${STYLE.mono}">${e(addressText)}</span>${e(access)}` +
    `${region === undefined ? '' : ` <span style="${STYLE.muted}">· ${e(region)}</span>`}</div>`);

  // 1. The address split into its fields.
  html.push(`<table class="pvops-walk-split" style="${STYLE.table};${STYLE.mono};text-align:center"><tr>`);
  for (const f of FIELDS) html.push(`<th style="${STYLE.th};text-align:center">${e(f.name)}<br><span style="${STYLE.muted}">bits ${f.bits}</span></th>`);
  html.push('</tr><tr>');
  const splitText: string[] = [];
  for (const f of FIELDS) {
    let value: number | null;
    if (f.level !== undefined) value = indexOf(f.level);
    else if (f.width === 12) value = va48 === null ? null : va48 % 4096;
    else value = va48 === null ? null : (va48 >= 2 ** 47 ? 0xffff : 0);
    const used = f.level === undefined || f.level >= lastLevel || lastLevel === 5;
    const shade = used ? '' : ';opacity:0.45';
    if (value === null) {
      html.push(`<td style="${STYLE.td};text-align:center${shade}">?</td>`);
      splitText.push(`${f.name} [${f.bits}] ?`);
    } else {
      const bin = f.width === 16 ? '' : `<br><span style="font-size:11px;${STYLE.muted}">${value.toString(2).padStart(f.width, '0')}</span>`;
      const dec = f.level !== undefined ? ` (${value})` : '';
      html.push(`<td style="${STYLE.td};text-align:center${shade}">0x${value.toString(16)}${dec}${bin}</td>`);
      splitText.push(`${f.name} [${f.bits}] = 0x${value.toString(16)}${dec}`);
    }
  }
  html.push('</tr></table>');
  text.push(`  ${splitText.join(', ')}`);

  // 2. One block per level visited.
  steps.forEach((s, i) => {
    const tableFrame = Math.floor(s.tablePa / 4096);
    const tableType = input.pageType?.(tableFrame) ?? undefined;
    const last = i === steps.length - 1;
    const leaf = s.level === 1 || s.fields.pageSize;
    const frame = Number(s.fields.address / 4096n);
    const faultHere = !result.ok && last && result.level === s.level;
    const border = faultHere ? '#b00020' : '#ccd';
    html.push(`<div class="pvops-walk-level" data-level="${s.level}" style="border:1px solid ${border};border-radius:6px;padding:6px 10px;margin:6px 0">`);
    html.push(`<div><b>${SHORT[s.level]}: ${e(TABLE_NAMES[s.level])}</b> at physical <span style="${STYLE.mono}">0x${s.tablePa.toString(16)}</span>` +
      ` (frame 0x${tableFrame.toString(16)}${tableType === undefined ? '' : `, Xen type ${e(tableType)}`})` +
      `${i === 0 ? ` <span style="${STYLE.muted}">← CR3</span>` : ''}</div>`);
    html.push(`<div style="${STYLE.mono}">${ENTRY_NAMES[s.level]}[${s.index}] = ${SHORT[s.level]}[0x${s.index.toString(16)}] at 0x${s.entryPa.toString(16)}` +
      ` = <b>${hex16(s.entry)}</b></div>`);
    html.push(`<table style="${STYLE.table};font-size:12px"><tr>`);
    const rows = flagRows(s.fields, s.level);
    for (const r of rows) html.push(`<th style="${STYLE.th};${STYLE.mono}" title="bit ${r.bit}">${r.name}</th>`);
    html.push('</tr><tr>');
    for (const r of rows) html.push(`<td style="${STYLE.td};${STYLE.mono};text-align:center;${r.on ? 'background:#e7f5ec' : ''}" title="${e(r.meaning)}">${r.on ? 1 : 0}</td>`);
    html.push('</tr></table>');
    const meaning = rows.filter((r) => r.on || r.name === 'P').map((r) => r.meaning).join('; ');
    html.push(`<div style="${STYLE.muted}">${e(meaning)}</div>`);
    let next: string;
    if (!s.fields.present) next = 'not present: no frame';
    else if (faultHere && result.kind === 'reserved-bit') next = 'a reserved bit is set: the walk stops here';
    else if (leaf) {
      const size = s.level === 1 ? 4096 : s.level === 2 ? 2097152 : 1073741824;
      const type = input.pageType?.(frame) ?? undefined;
      next = `maps a ${PAGE_SIZE_NAMES[size]} page at frame 0x${frame.toString(16)}${type === undefined ? '' : ` (Xen type ${type})`}`;
    } else {
      const type = input.pageType?.(frame) ?? undefined;
      next = `points to the ${TABLE_NAMES[s.level - 1]} at frame 0x${frame.toString(16)}${type === undefined ? '' : ` (Xen type ${type})`}`;
    }
    html.push(`<div>→ ${e(next)}</div></div>`);
    text.push(`  ${SHORT[s.level]}[0x${s.index.toString(16).padStart(3, '0')}] = ${hex16(s.entry)} (table at 0x${s.tablePa.toString(16)}` +
      `${tableType === undefined ? '' : `, ${tableType}`}): ${next}`);
  });

  // 3. The end: the page, or the fault.
  if (result.ok) {
    const size = result.pageSize === undefined ? '' : `${PAGE_SIZE_NAMES[result.pageSize] ?? `${result.pageSize}-byte`} page, `;
    const rights = result.rights === undefined ? '' : `${result.rights.writable ? 'writable' : 'read-only'}, ${result.rights.user ? 'user' : 'supervisor'}, ${result.rights.noExecute ? 'no-execute' : 'executable'}`;
    const pa = result.pa === undefined ? '?' : `0x${result.pa.toString(16)}`;
    html.push(`<div class="pvops-walk-result" style="${STYLE.good}">Translated: physical address <span style="${STYLE.mono}">${e(pa)}</span> (${e(size + rights)})</div>`);
    text.push(`  → physical address ${pa} (${size}${rights})`);
  } else {
    const code = decodeErrorCode(typeof result.errorCode === 'number' ? result.errorCode : 0);
    const where = result.level === undefined || result.level === 0
      ? 'the access rights of the whole path' : `${ENTRY_NAMES[result.level]} (${SHORT[result.level]})`;
    const why = result.kind === 'not-present' ? 'not present' : result.kind === 'reserved-bit' ? 'reserved bit set' : result.kind === 'protection' ? 'protection violation' : (result.kind ?? 'fault');
    html.push(`<div class="pvops-walk-fault" style="border:1px solid #b00020;border-radius:6px;padding:6px 10px;margin:6px 0">`);
    html.push(`<div style="${STYLE.bad}">#PF page fault: ${e(why)} at ${e(where)}; error code ${code.hex} (ec=${code.hex})</div>`);
    html.push(`<table style="${STYLE.table};font-size:12px"><tr><th style="${STYLE.th}">bit</th><th style="${STYLE.th}">value</th><th style="${STYLE.th}">meaning</th></tr>`);
    code.bits.forEach((b, bit) => {
      const on = ((code.value >> bit) & 1) === 1;
      html.push(`<tr><td style="${STYLE.td};${STYLE.mono}">${bit}</td><td style="${STYLE.td};${STYLE.mono};${on ? 'background:#fde7ea' : ''}">${on ? 1 : 0}</td><td style="${STYLE.td}">${e(b)}</td></tr>`);
    });
    html.push('</table></div>');
    text.push(`  → #PF: ${why} at ${where}, error code ${code.hex}`);
    for (const b of code.bits) text.push(`      ${b}`);
  }
  html.push('</div>');
  return htmlView(title, html.join(''), text.join('\n'));
}
