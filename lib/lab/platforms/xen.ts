/**
 * The Xen platform: a Xen 4.2 host, one 64-bit PV domain built by the domain builder with the
 * kernel image loaded, and the guest's hypercall page wired to the domain's vCPU 0.
 */
import { XenHost } from '../../xen/host';
import { buildPvDomain } from '../../xen/domain-builder';
import { construct_dom0, xen_boot_lines } from '../../xen/dom0-builder';
import type { Domain } from '../../xen/domain';
import { KERNEL_ELF_PEND } from '../../linux/image';
import { kernelVariant } from '../../linux/variants';
import { plainPcE820 } from '../host-config';
import type { PvVcpu } from '../../xen/pv-vcpu';
import type { MulticallEntry } from '../../xen/hypercalls/types';
import { __HYPERVISOR_mmu_update, __HYPERVISOR_mmuext_op, __HYPERVISOR_update_va_mapping } from '../../xen/public/xen';
import type { TraceRecorder } from '../../trace/recorder';
import { writeStaticPageTables } from '../../linux/boot/image-data';
import { KERNEL_IMAGE } from '../../linux/image';
import { __START_KERNEL_map, PAGE_SIZE } from '../../linux/layout';
import { startup_xen } from '../../linux/xen/enlighten';
import type { Kernel } from '../../linux/kernel';
import type { GuestStartInfo, MulticallReq, XenHypercalls } from '../../linux/xen/hypercall';
import { MulticallBuffer } from '../../linux/xen/multicalls';
import { P2m } from '../../linux/xen/p2m';
import type { NormalizedConfig } from '../config';
import { fittedPgdMfn, hostBytesFor, placeFittedFrame } from '../report-host';
import type { PlatformInstance } from '../machine';

const va48 = (v: bigint | number): number => Number(BigInt(v) & 0xffffffffffffn);

/**
 * The guest's HYPERVISOR_* calls, passed to the vCPU's hypercall entry points. A set_trap_table
 * that reaches Xen is recorded as a 'trap-table' event: the vectors Xen holds for the vCPU after
 * it, and the guest routine that made it (`caller`).
 */
function hypercallPage(vcpu: PvVcpu, startInfo: GuestStartInfo, trace: TraceRecorder, caller: () => string): XenHypercalls {
  const toEntry = (e: MulticallReq): MulticallEntry => {
    switch (e.op) {
      case 'mmu_update': return { op: __HYPERVISOR_mmu_update, args: [e.reqs] };
      case 'mmuext_op': return { op: __HYPERVISOR_mmuext_op, args: [e.ops] };
      default: return { op: __HYPERVISOR_update_va_mapping, args: [e.va, e.val, e.flags] };
    }
  };
  return {
    HYPERVISOR_mmu_update: (reqs) => vcpu.HYPERVISOR_mmu_update(reqs),
    HYPERVISOR_mmuext_op: (ops) => vcpu.HYPERVISOR_mmuext_op(ops),
    HYPERVISOR_update_va_mapping: (va, val, flags) => vcpu.HYPERVISOR_update_va_mapping(va, val, flags),
    HYPERVISOR_multicall: (entries) => {
      const calls = entries.map(toEntry);
      const rc = vcpu.HYPERVISOR_multicall(calls);
      return { rc, results: calls.map((c) => c.result ?? 0) };
    },
    mfn_to_pfn: (mfn) => vcpu.mfnToPfn(mfn),
    setUpcallMask: (masked) => vcpu.setUpcallMask(masked),
    HYPERVISOR_set_trap_table: (entries) => {
      const rc = vcpu.HYPERVISOR_set_trap_table(entries);
      const vectors: number[] = [];
      vcpu.trapCtxt.forEach((t, vector) => { if (t.address !== 0) vectors.push(vector); });
      trace.emit({ type: 'trap-table', vectors, by: caller() });
      return rc;
    },
    HYPERVISOR_vm_assist: (cmd, type) => vcpu.HYPERVISOR_vm_assist(cmd, type),
    HYPERVISOR_memory_op: (cmd, arg, out) => {
      const rc = vcpu.HYPERVISOR_memory_op(cmd, arg, out);
      return typeof rc === 'number' ? rc : rc.map((e) => ({ addr: e.start, size: e.end - e.start, type: e.type }));
    },
    registerGuestCode: (address, fn) => vcpu.registerGuestCode(address, (_v, frame) => fn(frame)),
    start_info: startInfo,
  };
}

export function xenPlatform(config: NormalizedConfig, trace: TraceRecorder): PlatformInstance {
  if (config.domid === 0) return dom0Platform(config, trace);
  const host = new XenHost({ trace, pcpus: Math.max(4, config.pcpu + 1), release: config.xenRelease, patches: config.xenPatches,
    debug: config.xenDebug, cmdline: config.xenCmdline, cpuHasVmx: config.hostVmx, memoryBytes: hostBytesFor(config) });
  const img = KERNEL_IMAGE;
  const imagePages = (img._end - img._text) / PAGE_SIZE;
  const staticWords = staticImageWords();
  const built = buildPvDomain(host, {
    domid: config.domid,
    memoryBytes: config.memoryBytes,
    pcpu: config.pcpu,
    vcpus: 1,
    kernel: {
      virtBase: __START_KERNEL_map,
      loadPfn: img._text / PAGE_SIZE,
      pages: imagePages,
      fill: (pfn: number, words: Uint32Array) => {
        for (const [i, v] of staticWords.get(pfn) ?? []) words[i] = v;
      },
      entry: __START_KERNEL_map + img._text,
    },
  });
  const vcpu = built.vcpu;
  const si = built.startInfo;
  // the report's guest: its pgd on the machine frame the reporter's toolstack gave it (fitted host data)
  const pgdMfn = fittedPgdMfn(config);
  if (pgdMfn !== null) {
    placeFittedFrame(host, built.domain, vcpu.cr3Mfn, va48(__START_KERNEL_map), va48(si.mfn_list), img.init_level4_pgt / PAGE_SIZE, pgdMfn);
  }
  const startInfo: GuestStartInfo = {
    nr_pages: Number(si.nr_pages),
    mfn_list: va48(si.mfn_list),
    pt_base: va48(si.pt_base),
    nr_pt_frames: Number(si.nr_pt_frames),
    start_info: va48(built.startInfoVa),
  };
  return guestPlatform(host, built.domain, vcpu, startInfo, trace);
}

/** The image's static content, by guest pfn: the page tables head_64.S pre-built. */
function staticImageWords(): Map<number, [number, number][]> {
  const staticWords = new Map<number, [number, number][]>();
  writeStaticPageTables(KERNEL_IMAGE, (pa, lo, hi) => {
    const pfn = Math.floor(pa / PAGE_SIZE);
    let list = staticWords.get(pfn);
    if (list === undefined) { list = []; staticWords.set(pfn, list); }
    list.push([(pa % PAGE_SIZE) / 4, lo], [(pa % PAGE_SIZE) / 4 + 1, hi]);
  }, false);
  return staticWords;
}

/**
 * Domain 0: a host made from the machine's e820 map (or a plain PC map of `memory`), Xen's boot
 * lines as far as the model goes (the synchronous-console note, the command line, the e820 map),
 * then construct_dom0 with the report's kind of inputs.
 */
function dom0Platform(config: NormalizedConfig, trace: TraceRecorder): PlatformInstance {
  const e820 = config.hostE820 ?? plainPcE820(config.memoryBytes);
  const host = new XenHost({
    trace, pcpus: Math.max(4, config.pcpu + 1), release: config.xenRelease, patches: config.xenPatches,
    debug: config.xenDebug, cmdline: config.xenCmdline, e820, cpuHasVmx: config.hostVmx,
  });
  xen_boot_lines(host);
  const img = KERNEL_IMAGE;
  const staticWords = staticImageWords();
  const d = config.dom0;
  const built = construct_dom0(host, {
    kernel: {
      virtBase: __START_KERNEL_map,
      pstart: img._text,
      pend: KERNEL_ELF_PEND,
      entry: kernelVariant(config.variant).symbols.address('startup_xen'),
      fill: (pfn: number, words: Uint32Array) => { for (const [i, v] of staticWords.get(pfn) ?? []) words[i] = v; },
    },
    nrPages: d?.pages ?? null,
    allocStart: d?.allocStart ?? null,
    initrdBytes: d?.initrdBytes ?? 0,
    vcpus: d?.vcpus ?? null,
    pcpu: config.pcpu,
  });
  const si = built.startInfo;
  const startInfo: GuestStartInfo = {
    nr_pages: si.nr_pages, mfn_list: si.mfn_list, pt_base: si.pt_base, nr_pt_frames: si.nr_pt_frames,
    start_info: va48(built.startInfoVa), flags: si.flags,
  };
  return guestPlatform(host, built.domain, built.vcpu, startInfo, trace);
}

/** The platform around a built domain: the guest's hypercall page, p2m and multicall buffer. */
function guestPlatform(host: XenHost, domain: Domain, vcpu: PvVcpu, startInfo: GuestStartInfo, trace: TraceRecorder): PlatformInstance {
  let kernel: Kernel | null = null;
  const hv = hypercallPage(vcpu, startInfo, trace, () => kernel?.stack.current ?? 'unknown');
  const guest = { hv, p2m: new P2m(hv), mc: new MulticallBuffer() };
  return {
    cpu: vcpu,
    memory: host.memory,
    start: (k) => { kernel = k; startup_xen(k, guest); },
    currentCr3: () => vcpu.cr3Mfn * PAGE_SIZE,
    xenConsole: () => host.console.lines.slice(),
    machineToGuest: (mfn) => vcpu.mfnToPfn(mfn),
    guestToMachine: (pfn) => domain.pfnToMfn(pfn),
    pageType: (mfn) => host.frameTable.typeName(mfn),
    xen: { host, domain, vcpu, guest },
  };
}
