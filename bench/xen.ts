/**
 * Benchmark of the Xen model's validation hot path: `npm run bench -- xen`.
 *
 * (a) pinning an L1 page table of 512 present entries (HYPERVISOR_mmuext_op MMUEXT_PIN_L1_TABLE:
 *     alloc_l1_table runs get_page_from_l1e on every entry: owner, flags, a general and a
 *     writable-type reference each), against
 * (b) writing the same 512 entries into a typed array (a plain fill, the floor for touching 512
 *     entries at all).
 * The library is the compiled one in dist/ (what CommonJS users load). Both measured in this process, best of several samples; the pins are undone untimed between
 * samples. The last line is the JSON object {"pinL1VsRawFill": (a)/(b)}. Target: <= 10.
 */
import { TraceRecorder } from '../dist/trace';
import { MMUEXT_PIN_L1_TABLE, MMUEXT_UNPIN_TABLE, XenHost, buildPvDomain } from '../dist/xen';
import { bestNsPerOp } from './timing';

const TABLES = 64;
const SAMPLES = 40;

export function run(): void {
  const host = new XenHost({ trace: new TraceRecorder() });
  const kernel = { virtBase: 0xffffffff80000000n, loadPfn: 0x1000, pages: 16, fill: () => {}, entry: 0xffffffff81000000n };
  const { domain, vcpu, layout } = buildPvDomain(host, { domid: 1, memoryBytes: 256 << 20, kernel });
  const firstFree = Number((layout.virtPgtabEnd - layout.virtBase) / 4096n);

  // TABLES free frames, each holding 512 present RW entries to distinct data frames of the domain.
  const tables: number[] = [];
  const lo = new Uint32Array(512);
  const hi = new Uint32Array(512);
  for (let t = 0; t < TABLES; t++) {
    const mfn = domain.pfnToMfn(firstFree + t);
    const words = host.memory.words(mfn);
    for (let i = 0; i < 512; i++) {
      const target = domain.pfnToMfn(firstFree + TABLES + t * 512 + i);
      words[i * 2] = ((target % 0x100000) * 4096 + 0x63) >>> 0; // P|RW|A|D
      words[i * 2 + 1] = Math.floor(target / 0x100000);
      if (t === 0) { lo[i] = words[i * 2]; hi[i] = words[i * 2 + 1]; }
    }
    tables.push(mfn);
  }
  const pinOps = tables.map((mfn) => [{ cmd: MMUEXT_PIN_L1_TABLE, mfn }]);
  const unpinOps = tables.map((mfn) => [{ cmd: MMUEXT_UNPIN_TABLE, mfn }]);

  let pinNs = Infinity;
  let sink = 0;
  for (let s = 0; s < SAMPLES; s++) {
    const t0 = process.hrtime.bigint();
    for (let t = 0; t < TABLES; t++) sink += vcpu.HYPERVISOR_mmuext_op(pinOps[t]);
    const ns = Number(process.hrtime.bigint() - t0) / TABLES;
    if (ns < pinNs) pinNs = ns;
    for (let t = 0; t < TABLES; t++) sink += vcpu.HYPERVISOR_mmuext_op(unpinOps[t]);
  }
  if (sink !== 0) throw new Error(`a pin or unpin failed (sum of return codes ${sink})`);

  const dst = new Uint32Array(1024);
  const fillNs = bestNsPerOp(() => {
    for (let i = 0; i < 512; i++) { dst[i * 2] = lo[i]; dst[i * 2 + 1] = hi[i]; }
  }, 2000, SAMPLES);

  const ratio = pinNs / fillNs;
  console.log(`pin (validate) an L1 of 512 present entries: ${(pinNs / 1000).toFixed(2)} us`);
  console.log(`write the same 512 entries into a typed array: ${(fillNs / 1000).toFixed(3)} us (check ${dst[1022]})`);
  console.log(JSON.stringify({ pinL1VsRawFill: Number(ratio.toFixed(2)) }));
}
