/**
 * Benchmark of the x86 hot paths: `npm run bench -- walk`.
 *
 * One address space of 8192 4 KiB pages spread over 8 PML4 slots, 32 page directories and 256
 * page tables, visited in a shuffled order. It measures, in one process:
 *  (a) a cold 4-level walk through the library (walkCore, no TLB),
 *  (b) a minimal hand-written 4-level walk over the same mem.frames (present bits and address
 *      arithmetic only),
 *  (c) a TLB hit through Mmu.translate,
 *  (d) a plain Map.get of a precomputed page -> physical page map,
 * and prints (a)/(b) and (c)/(d). Every result is summed into a sink that is printed, so the JIT
 * cannot drop the loops. The last line is one JSON object.
 */
import { Mmu, PhysicalMemory, newWalkScratch, walkCore, type PagingControl } from '../lib';
import { bestNsPerOp } from './timing';

const PML4_SLOTS = 8;       // upper half, from slot 0x111 (0xffff888000000000)
const PDPTES_PER_PML4 = 4;
const PDES_PER_PDPT = 8;
const PTES_PER_PT = 32;
const FIRST_SLOT = 0x111;

interface AddressSpace {
  mem: PhysicalMemory;
  pml4: number;
  /** the mapped virtual addresses (48-bit numbers, with a page offset), shuffled */
  addresses: number[];
  /** page number -> physical page address, for the Map.get baseline */
  pageMap: Map<number, number>;
}

/** Builds the address space with raw word writes (P|RW on every level). */
function build(): AddressSpace {
  const mem = new PhysicalMemory();
  const pml4 = mem.allocFrame() * 4096;
  const link = (tablePa: number, index: number, targetPa: number): void => {
    mem.words(tablePa / 4096)[index * 2] = targetPa + 0x3;
  };
  const addresses: number[] = [];
  const pageMap = new Map<number, number>();
  let nextData = 0x100000000; // data pages from 4 GiB up: never allocated (the walk does not touch them)
  for (let a = 0; a < PML4_SLOTS; a++) {
    const pdpt = mem.allocFrame() * 4096;
    link(pml4, FIRST_SLOT + a, pdpt);
    for (let b = 0; b < PDPTES_PER_PML4; b++) {
      const pd = mem.allocFrame() * 4096;
      link(pdpt, b * 37, pd);
      for (let c = 0; c < PDES_PER_PDPT; c++) {
        const pt = mem.allocFrame() * 4096;
        link(pd, c * 61, pt);
        for (let d = 0; d < PTES_PER_PT; d++) {
          const words = mem.words(pt / 4096);
          words[d * 13 * 2] = (nextData % 2 ** 32) + 0x3;
          words[d * 13 * 2 + 1] = Math.floor(nextData / 2 ** 32);
          const va = ((((FIRST_SLOT + a) * 512 + b * 37) * 512 + c * 61) * 512 + d * 13) * 4096;
          addresses.push(va + ((d * 8) % 4096));
          pageMap.set(va / 4096, nextData);
          nextData += 4096;
        }
      }
    }
  }
  // A deterministic shuffle (LCG), so consecutive accesses do not walk the same tables.
  let x = 12345;
  for (let i = addresses.length - 1; i > 0; i--) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const j = x % (i + 1);
    const t = addresses[i]; addresses[i] = addresses[j]; addresses[j] = t;
  }
  return { mem, pml4, addresses, pageMap };
}

/** (b) The baseline: a minimal 4-level walk, present bits and address arithmetic only. */
function minimalWalk(frames: Map<number, Uint32Array>, pml4: number, va48: number): number {
  const lo = va48 >>> 0;
  const hi = (va48 / 4294967296) | 0;
  let w = frames.get(pml4 / 4096);
  if (w === undefined) return -1;
  let i = ((hi >>> 7) & 511) * 2;
  if ((w[i] & 1) === 0) return -1;
  w = frames.get((w[i + 1] & 0xfffff) * 1048576 + (w[i] >>> 12));
  if (w === undefined) return -1;
  i = (((hi << 2) | (lo >>> 30)) & 511) * 2;
  if ((w[i] & 1) === 0) return -1;
  w = frames.get((w[i + 1] & 0xfffff) * 1048576 + (w[i] >>> 12));
  if (w === undefined) return -1;
  i = ((lo >>> 21) & 511) * 2;
  if ((w[i] & 1) === 0) return -1;
  w = frames.get((w[i + 1] & 0xfffff) * 1048576 + (w[i] >>> 12));
  if (w === undefined) return -1;
  i = ((lo >>> 12) & 511) * 2;
  if ((w[i] & 1) === 0) return -1;
  return (w[i + 1] & 0xfffff) * 4294967296 + ((w[i] & 0xfffff000) >>> 0) + (lo & 0xfff);
}

let sink = 0;

/** Runs the benchmark and prints readable lines, then the JSON ratios as the last line. */
export function run(): void {
  const space = build();
  const { mem, pml4, addresses, pageMap } = space;
  const n = addresses.length;
  const ctl: PagingControl = { pml4, wp: true, smep: false, smap: false, ac: false, nxe: true, maxPhysAddr: 46 };
  const scratch = newWalkScratch();
  const frames = mem.frames;
  const mmu = new Mmu(mem, { cr3: BigInt(pml4), cr0: { wp: true }, efer: { nxe: true }, tlbEntries: 16384 });

  // Every path must agree before anything is timed.
  for (const va of addresses) {
    if (!walkCore(mem, ctl, va, 0, scratch, null)) throw new Error(`walkCore faulted at ${va.toString(16)}`);
    const expected = (pageMap.get(Math.floor(va / 4096)) as number) + (va % 4096);
    if (scratch.pa !== expected || minimalWalk(frames, pml4, va) !== expected || mmu.translate(va, 0) !== expected) {
      throw new Error(`paths disagree at ${va.toString(16)}`);
    }
  }

  const reps = 20;
  const libraryWalk = bestNsPerOp(() => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      walkCore(mem, ctl, addresses[i], 0, scratch, null);
      s += scratch.pa;
    }
    sink += s;
  }, reps) / n;
  const baselineWalk = bestNsPerOp(() => {
    let s = 0;
    for (let i = 0; i < n; i++) s += minimalWalk(frames, pml4, addresses[i]);
    sink += s;
  }, reps) / n;
  const tlbHit = bestNsPerOp(() => {
    let s = 0;
    for (let i = 0; i < n; i++) s += mmu.translate(addresses[i], 0);
    sink += s;
  }, reps) / n;
  const mapGet = bestNsPerOp(() => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const va = addresses[i];
      s += (pageMap.get(Math.floor(va / 4096)) as number) + (va % 4096);
    }
    sink += s;
  }, reps) / n;
  const missPath = bestNsPerOp(() => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      mmu.invlpg(addresses[i]);
      s += mmu.translate(addresses[i], 0);
    }
    sink += s;
  }, 5) / n;
  const stats = mmu.stats;

  const r1 = libraryWalk / baselineWalk;
  const r2 = tlbHit / mapGet;
  console.log(`address space: ${n} pages, ${mem.frameCount} table frames; addresses shuffled`);
  console.log(`(a) library cold walk (walkCore)        ${libraryWalk.toFixed(1)} ns/walk`);
  console.log(`(b) minimal hand-written walk           ${baselineWalk.toFixed(1)} ns/walk`);
  console.log(`(c) Mmu.translate, TLB hit              ${tlbHit.toFixed(1)} ns/translation`);
  console.log(`(d) Map.get of page -> pa               ${mapGet.toFixed(1)} ns/lookup`);
  console.log(`    Mmu.translate after INVLPG (walk + fill, for reference) ${missPath.toFixed(1)} ns/translation`);
  console.log(`    Mmu stats: ${stats.tlbHits} hits, ${stats.tlbMisses} misses; sink ${sink}`);
  console.log(`cold walk / baseline = ${r1.toFixed(2)} (target <= 3); TLB hit / Map.get = ${r2.toFixed(2)} (target <= 2)`);
  console.log(JSON.stringify({ coldWalkVsBaseline: Number(r1.toFixed(3)), tlbHitVsBaseline: Number(r2.toFixed(3)) }));
}
