/**
 * The invariants the fuzz checks after every hypercall, computed from the state alone (not from
 * the model's own bookkeeping):
 *  1. no guest-writable mapping of a frame typed as a page table;
 *  2. no mapping of a frame owned by another domain;
 *  3. Xen's L4 slots in every validated L4 as alloc_l4_table sets them (oracle-xen-slots.ts: from
 *     the source, not from the model's install_xen_slots);
 *  4. type counts (and general reference counts) equal to the references the validated tables,
 *     the pins and the base pointers hold;
 *  5. a refused call changes nothing (snapshot / compare).
 */
import type { Domain, PvVcpu, XenHost } from '../../lib/xen';
import { xenSlotsFromSource } from './oracle-xen-slots';

const PGT_TYPE = 0x07;
const PGT_PINNED = 0x08;
const PGT_VALIDATED = 0x10;
const RW = 2;
const P = 1;
const PSE = 0x80;

function mfnOf(lo: number, hi: number): number {
  return (hi & 0xfffff) * 0x100000 + (lo >>> 12);
}

export class InvariantChecker {
  /** frames that can ever be page tables of the domain (its own frames) */
  private readonly frames: number[];
  private readonly xenSlots = new Map<number, Uint32Array>();
  private readonly expectType: Uint32Array;
  private readonly expectRef: Uint32Array;
  private readonly baseRef: Uint32Array;
  private readonly baseType: Uint32Array;

  constructor(private readonly host: XenHost, private readonly dom: Domain, private readonly v: PvVcpu, tableCandidates: number[]) {
    this.frames = tableCandidates;
    const n = host.maxPage;
    this.expectType = new Uint32Array(n);
    this.expectRef = new Uint32Array(n);
    // The references nothing in the domain's tables explains: allocation (1 per owned frame),
    // shared_info's and the I/O frames' permanent writable type reference.
    this.baseRef = new Uint32Array(n);
    this.baseType = new Uint32Array(n);
    const ft = host.frameTable;
    for (let m = 0; m < n; m++) {
      if (ft.owner[m] === dom.domid) this.baseRef[m] = 1;
    }
    this.baseType[dom.sharedInfoMfn] = 1;
  }

  /** Runs invariants 1-4; returns a list of violations (empty when all hold). */
  check(): string[] {
    const { host, dom, v } = this;
    const ft = host.frameTable;
    const mem = host.memory.frames;
    const out: string[] = [];
    this.expectType.set(this.baseType);
    this.expectRef.set(this.baseRef);
    const et = this.expectType;
    const er = this.expectRef;
    for (const m of this.frames) {
      const ti = ft.typeInfo[m];
      const tc = ft.typeCountOf(m);
      if ((ti & PGT_PINNED) !== 0) { et[m]++; er[m]++; }
      const type = ti & PGT_TYPE;
      if (tc === 0 || (ti & PGT_VALIDATED) === 0 || type < 1 || type > 4) continue;
      const w = mem.get(m);
      if (w === undefined) continue;
      if (type === 4) {
        let exp = this.xenSlots.get(m);
        if (exp === undefined) { exp = xenSlotsFromSource(host, m, dom.perdomainL3Mfn); this.xenSlots.set(m, exp); }
        for (let i = 0; i < 32; i++) {
          if (w[512 + i] !== exp[i]) { out.push(`L4 mfn ${m.toString(16)}: Xen slot ${256 + (i >> 1)} changed`); break; }
        }
      }
      for (let i = 0; i < 512; i++) {
        if (type === 4 && i >= 256 && i <= 271) continue;
        const lo = w[i * 2];
        if ((lo & P) === 0) continue;
        const hi = w[i * 2 + 1];
        const t = mfnOf(lo, hi);
        if (type === 1) {
          if (t >= host.maxPage || ft.owner[t] === 0x7ff1) { out.push(`L1 ${m.toString(16)}[${i}] maps I/O frame ${t.toString(16)}`); continue; }
          if (ft.owner[t] !== dom.domid) out.push(`L1 ${m.toString(16)}[${i}] maps frame ${t.toString(16)} of owner ${ft.owner[t]}`);
          er[t]++;
          if ((lo & RW) !== 0) {
            et[t]++;
            const tt = ft.typeInfo[t] & PGT_TYPE;
            if (tt >= 1 && tt <= 4 && ft.typeCountOf(t) > 0) out.push(`L1 ${m.toString(16)}[${i}] maps page table ${t.toString(16)} writable`);
          }
        } else {
          if (t === m) { // a linear self-map holds nothing, and must be read-only
            if ((lo & RW) !== 0) out.push(`writable linear self-map in L${type} ${m.toString(16)}[${i}]`);
            continue;
          }
          if (type === 2 && (lo & PSE) !== 0) { out.push(`superpage in L2 ${m.toString(16)}[${i}] without allowsuperpage`); continue; }
          if (ft.owner[t] !== dom.domid) out.push(`L${type} ${m.toString(16)}[${i}] points to frame ${t.toString(16)} of owner ${ft.owner[t]}`);
          er[t]++;
          et[t]++;
          const tt = ft.typeInfo[t] & PGT_TYPE;
          if (tt !== type - 1 && tt !== type) out.push(`L${type} ${m.toString(16)}[${i}] points to a frame of type ${tt}`);
          if ((lo & RW) !== 0 && tt === type) out.push(`writable linear map in L${type} ${m.toString(16)}[${i}]`);
        }
      }
    }
    for (const base of [v.guestTable, v.guestTableUser]) if (base !== 0) { et[base]++; er[base]++; }
    // Compare over every frame the domain owns or could reference (the whole host is small).
    const n = host.maxPage;
    for (let m = 0; m < n; m++) {
      const owner = ft.owner[m];
      if (owner !== dom.domid) {
        if (er[m] !== this.baseRef[m] && owner !== 0x7ff1) out.push(`frame ${m.toString(16)} of owner ${owner} is referenced by the domain`);
        continue;
      }
      if (ft.typeCountOf(m) !== et[m]) out.push(`frame ${m.toString(16)}: type count ${ft.typeCountOf(m)} != ${et[m]} references (type ${ft.typeInfo[m] & 7})`);
      if (ft.refCountOf(m) !== er[m]) out.push(`frame ${m.toString(16)}: ref count ${ft.refCountOf(m)} != ${er[m]} references`);
      if (out.length > 10) break;
    }
    return out;
  }
}

/** A snapshot of everything a refused call must leave alone. */
export class StateSnapshot {
  private readonly owner: Uint16Array;
  private readonly typeInfo: Uint8Array;
  private readonly typeCount: Uint16Array;
  private readonly refCount: Uint16Array;
  private readonly m2p: BigUint64Array;
  private readonly memory: Uint32Array;
  private bases: [number, number] = [0, 0];

  constructor(private readonly host: XenHost, private readonly frames: number[], private readonly m2pFrames: number[]) {
    const n = host.maxPage;
    this.owner = new Uint16Array(n);
    this.typeInfo = new Uint8Array(n);
    this.typeCount = new Uint16Array(n);
    this.refCount = new Uint16Array(n);
    this.m2p = new BigUint64Array(m2pFrames.length);
    this.memory = new Uint32Array(frames.length * 1024);
  }

  take(v: PvVcpu): void {
    const ft = this.host.frameTable;
    this.owner.set(ft.owner);
    this.counts(this.typeCount, this.refCount);
    this.normalise(ft.typeInfo, this.typeCount, this.typeInfo);
    for (let i = 0; i < this.m2pFrames.length; i++) this.m2p[i] = this.host.m2p.entry(this.m2pFrames[i]);
    for (let i = 0; i < this.frames.length; i++) {
      const w = this.host.memory.frames.get(this.frames[i]);
      if (w === undefined) this.memory.fill(0, i * 1024, i * 1024 + 1024); else this.memory.set(w, i * 1024);
    }
    this.bases = [v.guestTable, v.guestTableUser];
  }

  /** Differences from the snapshot (empty when nothing changed). */
  diff(v: PvVcpu): string[] {
    const ft = this.host.frameTable;
    const out: string[] = [];
    const ti = new Uint8Array(ft.typeInfo.length);
    const tc = new Uint16Array(ft.typeInfo.length);
    const rc = new Uint16Array(ft.typeInfo.length);
    this.counts(tc, rc);
    this.normalise(ft.typeInfo, tc, ti);
    if (!same(this.owner, ft.owner)) out.push('owners changed');
    if (!same(this.typeInfo, ti)) out.push('types changed');
    if (!same(this.typeCount, tc)) out.push('type counts changed');
    if (!same(this.refCount, rc)) out.push('reference counts changed');
    for (let i = 0; i < this.m2pFrames.length; i++) {
      if (this.m2p[i] !== this.host.m2p.entry(this.m2pFrames[i])) { out.push('M2P changed'); break; }
    }
    if (this.bases[0] !== v.guestTable || this.bases[1] !== v.guestTableUser) out.push('base pointers changed');
    for (let i = 0; i < this.frames.length; i++) {
      const w = this.host.memory.frames.get(this.frames[i]);
      const snap = this.memory.subarray(i * 1024, i * 1024 + 1024);
      if (w === undefined ? snap.some((x) => x !== 0) : !same(snap, w)) {
        // Xen's adjust_guest_l*e edits a table's entries as it validates them, even when a later
        // entry fails: _PAGE_USER, _PAGE_GLOBAL and _PAGE_GUEST_KERNEL may appear. Nothing else.
        const ww = w ?? new Uint32Array(1024);
        for (let k = 0; k < 1024; k++) {
          const mask = k % 2 === 0 ? ~(4 | 0x100) : ~0x100000;
          if ((snap[k] & mask) !== (ww[k] & mask)) { out.push(`memory of frame ${this.frames[i].toString(16)} changed at word ${k}`); break; }
        }
      }
    }
    return out;
  }

  private counts(tc: Uint16Array, rc: Uint16Array): void {
    const ft = this.host.frameTable;
    for (let m = 0; m < tc.length; m++) { tc[m] = ft.typeCountOf(m); rc[m] = ft.refCountOf(m); }
  }

  private normalise(ti: Uint8Array, tc: Uint16Array, out: Uint8Array): void {
    // A frame's type with count 0 is free to change (Xen resets it when a validation fails).
    for (let m = 0; m < ti.length; m++) out[m] = tc[m] === 0 ? ti[m] & PGT_PINNED : ti[m];
  }
}

function same(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
