/**
 * The hypercall entry: checks the library user's arguments (a LabError, before any state
 * changes, for a malformed argument: the guest's mistakes get Xen's error codes instead),
 * converts 64-bit values to numbers once, runs Xen's do_* routine, and records a 'hypercall'
 * trace event. hypercall_table[op] dispatch for multicall lives here too.
 * // xen/arch/x86/x86_64/entry.S (hypercall_table), xen/include/asm-x86/multicall.h (Xen 4.2.0)
 */
import { LabError, describeValue } from '../../errors';
import { isCanonical, parseU64 } from '../../x86';
import { EINVAL, ENOSYS } from '../public/errno';
import {
  DOMID_SELF, HYPERCALL_NAMES, MMUEXT_NAMES, MMU_NORMAL_PT_UPDATE, MMU_PT_UPDATE_PRESERVE_AD, NR_hypercalls, __HYPERVISOR_console_io, __HYPERVISOR_mmu_update,
  __HYPERVISOR_mmuext_op, __HYPERVISOR_multicall, __HYPERVISOR_set_callbacks, __HYPERVISOR_set_trap_table,
  __HYPERVISOR_update_va_mapping, __HYPERVISOR_vcpu_op, __HYPERVISOR_vm_assist,
} from '../public/xen';
import type { Vcpu } from '../domain';
import { do_mmu_update, type MmuRequest } from './mmu-update';
import { do_mmuext_op, type MmuextRequest } from './mmuext-op';
import { do_multicall, type PreparedCall } from './multicall';
import { do_console_io, do_vcpu_op, do_vm_assist } from './misc';
import { do_set_callbacks, do_set_trap_table, type CallbackAddress, type TrapInfoRequest } from './traps-callbacks';
import { do_update_va_mapping } from './update-va-mapping';

const MMU_CMD_NAMES = ['MMU_NORMAL_PT_UPDATE', 'MMU_MACHPHYS_UPDATE', 'MMU_PT_UPDATE_PRESERVE_AD'];
const LOW48 = (1n << 48n) - 1n;
const U64_MAX = (1n << 64n) - 1n;
/** 2^53 - 1: a bigint up to this converts to a number exactly */
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);
/**
 * Scratch for splitting a 64-bit value into its 32-bit halves without BigInt arithmetic (each
 * `&` or `>>` on a bigint allocates one): stored as a BigUint64Array element, read back as two
 * words, the low one first on a little-endian host.
 */
const U64_SCRATCH = new BigUint64Array(1);
const U64_WORDS = new Uint32Array(U64_SCRATCH.buffer);
const LOW_WORD = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 0 : 1;
const HIGH_WORD = 1 - LOW_WORD;

/** The hypercall number of a name ('mmu_update' -> 1), and what error messages call it. */
const NUMBER_OF: Record<string, number> = {};
const WHERE_OF: Record<string, string> = {};
for (const [k, v] of Object.entries(HYPERCALL_NAMES)) { NUMBER_OF[v] = Number(k); WHERE_OF[v] = `HYPERVISOR_${v}`; }

/**
 * Runs hypercall `name` for vCPU `v` with the typed arguments of its HYPERVISOR_* method.
 * Refuses (LabError DOMAIN_DEAD) once the domain has crashed: real Xen never schedules a crashed
 * domain's vCPUs again, so no further hypercall can reach it.
 */
export function hypercallEntry(v: Vcpu, name: string, args: unknown[]): number {
  if (v.domain.isDead) {
    throw new LabError('DOMAIN_DEAD',
      `domain ${v.domain.domid} has crashed: Xen never runs its vCPUs again (__domain_crash_synchronous pauses them for ever), so HYPERVISOR_${name} cannot be issued`);
  }
  const call = prepareCall(v, NUMBER_OF[name], args, WHERE_OF[name] ?? `HYPERVISOR_${name}`);
  // A hypercall may change page tables or base pointers: the model drops every cached translation
  // first (a stand-in for the flushes Xen and the guest make), but for an mmu_update that only
  // fills an empty entry (see fillsEmptyEntry): it can make no cached translation stale.
  if (call.keepsTranslations !== true) for (const vcpu of v.domain.vcpus) vcpu.flushTranslations();
  v.domain.host.currentDomid = v.domain.domid;
  return call.run();
}

// The argument checks below name the argument `${where}: ${field}` in their messages; the string
// is built only when one is thrown (a hot hypercall such as mmu_update passes every check).

function intArg(where: string, field: string, value: unknown, min: number, max: number): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
  if (typeof value === 'bigint' && value >= BigInt(min) && value <= BigInt(max)) return Number(value);
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new LabError('WRONG_TYPE', `${where}: ${field} must be an integer from ${min} to ${max}; got ${describeValue(value)}`);
  }
  throw new LabError('VALUE_OUT_OF_RANGE', `${where}: ${field} must be from ${min} to ${max}; got ${value}`);
}

function arrayArg(where: string, field: string, value: unknown): readonly unknown[] {
  if (!Array.isArray(value)) throw new LabError('WRONG_TYPE', `${where}: ${field} must be an array; got ${describeValue(value)}`);
  return value;
}

function countArg(where: string, field: string, value: unknown, length: number): number {
  return intArg(where, field, value, 0, length);
}

function pdoneArg(where: string, field: string, value: unknown): { value: number } | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'object' || typeof (value as { value: unknown }).value !== 'number') {
    throw new LabError('WRONG_TYPE', `${where}: ${field} must be null or an object { value: number } that receives the count done; got ${describeValue(value)}`);
  }
  return value as { value: number };
}

/** A 64-bit argument: a bigint in range as it is, else parseU64's reading (a hex string) or its LabError. */
function u64Arg(where: string, field: string, value: unknown): bigint {
  if (typeof value === 'bigint' && value >= 0n && value <= U64_MAX) return value;
  return parseU64(`${where}: ${field}`, value);
}

/** Field `prop` of element `i` of list `list`, as a 64-bit argument (u64Arg). */
function u64Element(where: string, list: string, i: number, prop: string, value: unknown): bigint {
  if (typeof value === 'bigint' && value >= 0n && value <= U64_MAX) return value;
  return parseU64(`${where}: ${list}[${i}].${prop}`, value);
}

/** A frame number argument (number or bigint); huge values are kept as an invalid frame. */
function mfnArg(where: string, field: string, value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value === 'bigint') {
    if (value < 0n || value >= 1n << 64n) throw new LabError('VALUE_OUT_OF_RANGE', `${where}: ${field} must fit 64 bits; got ${value}`);
    return value > SAFE_MAX ? Number.MAX_SAFE_INTEGER : Number(value);
  }
  return intArg(where, field, value, 0, Number.MAX_SAFE_INTEGER);
}

/** Bits 31:0 of a 64-bit value (0 to 2^64 - 1). */
function lowHalf(v: bigint): number {
  U64_SCRATCH[0] = v;
  return U64_WORDS[LOW_WORD];
}

/** Bits 63:32 of a 64-bit value (0 to 2^64 - 1). */
function highHalf(v: bigint): number {
  U64_SCRATCH[0] = v;
  return U64_WORDS[HIGH_WORD];
}

function vcpumaskArg(where: string, field: string, value: unknown): readonly number[] | null {
  if (value === undefined || value === null) return null;
  const a = arrayArg(where, field, value);
  a.forEach((x, i) => intArg(where, `${field}[${i}]`, x, 0, 8191));
  return a as readonly number[];
}

function addressArg(where: string, field: string, value: unknown): CallbackAddress & { isZero: boolean } {
  const v = u64Arg(where, field, value);
  return { canonical: isCanonical(v), address: Number(v & LOW48), isZero: v === 0n };
}

/**
 * Whether a page-table update writes an entry that is not present now. A TLB caches only
 * translations whose walk found every entry present (Intel SDM vol. 3A, 4.10.2.3 "Details of TLB Use"), so such a
 * write leaves every cached translation right. (Xen 4.2's mod_l1_entry, xen/arch/x86/mm.c:1813
 * at RELEASE-4.2.0, writes it with no flush of its own; __get_page_type may flush when the mapped
 * page changes type, mm.c:2460-2478, for that page's old mappings, which a fill does not touch; the
 * guest flushes when it replaces a present entry.) The hot case: xen_set_pte_at's one mmu_update
 * per vmemmap page.
 */
function fillsEmptyEntry(v: Vcpu, r: MmuRequest): boolean {
  if (r.cmd !== MMU_NORMAL_PT_UPDATE && r.cmd !== MMU_PT_UPDATE_PRESERVE_AD) return false;
  const words = v.domain.host.memory.storage(r.mfn);
  return words === undefined || (words[r.offset >>> 2] & 1) === 0; // _PAGE_PRESENT
}

function traced(v: Vcpu, name: string, op: string | null, body: () => number): PreparedCall {
  return {
    run(): number {
      const rc = body();
      v.domain.host.trace.hypercall(name, op, rc, v.domain.domid);
      return rc;
    },
  };
}

/** Parses the arguments of hypercall `op` and returns the call ready to run (LabError on bad input). */
export function prepareCall(v: Vcpu, op: number, args: unknown[], where: string): PreparedCall {
  switch (op) {
    case __HYPERVISOR_mmu_update: {
      const list = arrayArg(where, 'req', args[0]);
      const count = countArg(where, 'count', args[1], list.length);
      const pdone = pdoneArg(where, 'success_count', args[2]);
      const foreigndom = intArg(where, 'domid', args[3] ?? DOMID_SELF, 0, 0xffffffff);
      const reqs: MmuRequest[] = [];
      // the trace's op: the names of the commands used, in the order they first appear
      let names: string | null = null;
      let seen = 0;
      for (let i = 0; i < count; i++) {
        const r = list[i] as { ptr?: unknown; val?: unknown };
        if (typeof r !== 'object' || r === null) {
          throw new LabError('WRONG_TYPE', `${where}: req[${i}] must be { ptr, val }; got ${describeValue(r)}`);
        }
        const ptr = u64Element(where, 'req', i, 'ptr', r.ptr);
        const val = u64Element(where, 'req', i, 'val', r.val);
        // ptr: the frame (bits 63:12, below 2^52), the entry's byte offset (11:3), the command (2:0)
        const ptrHi = highHalf(ptr);
        const ptrLo = lowHalf(ptr);
        const cmd = ptrLo & 7;
        if ((seen & (1 << cmd)) === 0) {
          seen |= 1 << cmd;
          const name = MMU_CMD_NAMES[cmd] ?? `MMU_${cmd}`;
          names = names === null ? name : `${names},${name}`;
        }
        reqs.push({
          mfn: ptrHi * 0x100000 + (ptrLo >>> 12),
          offset: ptrLo & 0xff8, cmd, valLo: lowHalf(val), valHi: highHalf(val), val,
        });
      }
      const call = traced(v, 'mmu_update', names, () => do_mmu_update(v, reqs, count, pdone, foreigndom));
      if (count === 1 && fillsEmptyEntry(v, reqs[0])) call.keepsTranslations = true;
      return call;
    }
    case __HYPERVISOR_mmuext_op: {
      const list = arrayArg(where, 'op', args[0]);
      const count = countArg(where, 'count', args[1], list.length);
      const pdone = pdoneArg(where, 'success_count', args[2]);
      const foreigndom = intArg(where, 'domid', args[3] ?? DOMID_SELF, 0, 0xffffffff);
      const ops: MmuextRequest[] = [];
      const names = new Set<string>();
      for (let i = 0; i < count; i++) {
        const o = list[i] as { cmd?: unknown; mfn?: unknown; linear_addr?: unknown; nr_ents?: unknown; vcpumask?: unknown; src_mfn?: unknown };
        if (typeof o !== 'object' || o === null) {
          throw new LabError('WRONG_TYPE', `${where}: op[${i}] must be { cmd, mfn | linear_addr, ... }; got ${describeValue(o)}`);
        }
        const cmd = intArg(where, `op[${i}].cmd`, o.cmd, 0, 0xffffffff);
        names.add(MMUEXT_NAMES[cmd] ?? `MMUEXT_${cmd}`);
        ops.push({
          cmd,
          mfn: mfnArg(where, `op[${i}].mfn`, o.mfn),
          linearFull: o.linear_addr === undefined ? 0n : u64Element(where, 'op', i, 'linear_addr', o.linear_addr),
          linearAddr: 0,
          nrEnts: o.nr_ents === undefined ? 0 : intArg(where, `op[${i}].nr_ents`, o.nr_ents, 0, 0xffffffff),
          vcpumask: vcpumaskArg(where, `op[${i}].vcpumask`, o.vcpumask),
          srcMfn: mfnArg(where, `op[${i}].src_mfn`, o.src_mfn),
        });
      }
      for (const o of ops) o.linearAddr = Number(o.linearFull & LOW48);
      return traced(v, 'mmuext_op', [...names].join(',') || null, () => do_mmuext_op(v, ops, count, pdone, foreigndom));
    }
    case __HYPERVISOR_update_va_mapping: {
      const va = u64Arg(where, 'va', args[0]);
      const val = u64Arg(where, 'new_val', args[1]);
      const valLo = lowHalf(val);
      const valHi = highHalf(val);
      const flags = intArg(where, 'flags', args[2], 0, Number.MAX_SAFE_INTEGER);
      const mask = vcpumaskArg(where, 'vcpumask', args[3]);
      const va48 = Number(va & LOW48);
      return traced(v, 'update_va_mapping', null, () => do_update_va_mapping(v, va48, valLo, valHi, flags, mask));
    }
    case __HYPERVISOR_multicall: {
      const list = arrayArg(where, 'call_list', args[0]);
      const n = countArg(where, 'nr_calls', args[1], list.length);
      const prepared: PreparedCall[] = [];
      for (let i = 0; i < n; i++) {
        const e = list[i] as { op?: unknown; args?: unknown };
        if (typeof e !== 'object' || e === null) {
          throw new LabError('WRONG_TYPE', `${where}: call_list[${i}] must be { op, args }; got ${describeValue(e)}`);
        }
        const op2 = intArg(where, `call_list[${i}].op`, e.op, 0, Number.MAX_SAFE_INTEGER);
        if (op2 === __HYPERVISOR_multicall) {
          // do_multicall re-entered: "Multicall reentry is disallowed."
          prepared.push(traced(v, 'multicall', 'reentry', () => -EINVAL));
        } else if (op2 >= NR_hypercalls || !MODELLED.has(op2)) {
          prepared.push({ run: () => -ENOSYS });
        } else {
          prepared.push(prepareCall(v, op2, [...arrayArg(where, `call_list[${i}].args`, e.args)], `${where}: call_list[${i}]`));
        }
      }
      const entries = list as Array<{ result?: number }>;
      return traced(v, 'multicall', `${n} calls`, () => do_multicall(v, prepared, (i, rc) => { entries[i].result = rc; }));
    }
    case __HYPERVISOR_set_trap_table: {
      const table = args[0];
      if (table === null || table === undefined) {
        return traced(v, 'set_trap_table', null, () => do_set_trap_table(v, null));
      }
      const list = arrayArg(where, 'table', table);
      const reqs: TrapInfoRequest[] = list.map((t, i) => {
        const e = t as { vector?: unknown; flags?: unknown; cs?: unknown; address?: unknown };
        if (typeof e !== 'object' || e === null) {
          throw new LabError('WRONG_TYPE', `${where}: table[${i}] must be { vector, flags, cs, address }; got ${describeValue(e)}`);
        }
        const a = addressArg(where, `table[${i}].address`, e.address);
        return {
          vector: intArg(where, `table[${i}].vector`, e.vector, 0, 255),
          flags: intArg(where, `table[${i}].flags`, e.flags, 0, 255),
          cs: intArg(where, `table[${i}].cs`, e.cs, 0, 0xffff),
          isZero: a.isZero, canonical: a.canonical, address: a.address,
        };
      });
      return traced(v, 'set_trap_table', null, () => do_set_trap_table(v, reqs));
    }
    case __HYPERVISOR_set_callbacks: {
      const e = addressArg(where, 'event_address', args[0]);
      const f = addressArg(where, 'failsafe_address', args[1]);
      const s = addressArg(where, 'syscall_address', args[2]);
      return traced(v, 'set_callbacks', null, () => do_set_callbacks(v, e, f, s));
    }
    case __HYPERVISOR_console_io: {
      const cmd = intArg(where, 'cmd', args[0], 0, 0xffffffff);
      const count = intArg(where, 'count', args[1], 0, 0x7fffffff);
      if (typeof args[2] !== 'string') {
        throw new LabError('WRONG_TYPE', `${where}: buffer must be a string; got ${describeValue(args[2])}`);
      }
      const buffer = args[2];
      return traced(v, 'console_io', null, () => do_console_io(v, cmd, count, buffer));
    }
    case __HYPERVISOR_vcpu_op: {
      const cmd = intArg(where, 'cmd', args[0], 0, 0xffffffff);
      const vcpuid = intArg(where, 'vcpuid', args[1], -0x80000000, 0x7fffffff);
      return traced(v, 'vcpu_op', String(cmd), () => do_vcpu_op(v, cmd, vcpuid));
    }
    case __HYPERVISOR_vm_assist: {
      const cmd = intArg(where, 'cmd', args[0], 0, 0xffffffff);
      const type = intArg(where, 'type', args[1], 0, 0xffffffff);
      return traced(v, 'vm_assist', null, () => do_vm_assist(v, cmd, type));
    }
    default:
      throw new LabError('INVALID_STATE', `${where}: hypercall ${op} is not modelled`);
  }
}

/** The hypercalls the model implements. */
export const MODELLED = new Set<number>([
  __HYPERVISOR_mmu_update, __HYPERVISOR_mmuext_op, __HYPERVISOR_update_va_mapping, __HYPERVISOR_multicall,
  __HYPERVISOR_set_trap_table, __HYPERVISOR_set_callbacks, __HYPERVISOR_console_io, __HYPERVISOR_vcpu_op,
  __HYPERVISOR_vm_assist,
]);
