/**
 * The argument structures of the PV hypercalls, as the guest passes them (the model takes them
 * as JavaScript objects instead of guest pointers; 64-bit fields as bigint or hex strings).
 * // xen/include/public/xen.h, arch-x86/xen.h (Xen 4.2.0)
 */

/** struct mmu_update { uint64_t ptr; uint64_t val; }: ptr[2:0] is the MMU_* command, ptr[:3] the machine address */
export interface MmuUpdate {
  ptr: bigint | string;
  val: bigint | string;
}

/**
 * struct mmuext_op { unsigned int cmd; union { xen_pfn_t mfn; unsigned long linear_addr; } arg1;
 * union { unsigned int nr_ents; const void *vcpumask; xen_pfn_t src_mfn; } arg2; }
 * Give the union member the command uses: `mfn` for PIN_*, UNPIN_TABLE, NEW_BASEPTR,
 * NEW_USER_BASEPTR; `linear_addr` for INVLPG_*; `vcpumask` (vCPU ids) for the *_MULTI commands.
 */
export interface MmuextOp {
  cmd: number;
  mfn?: number | bigint;
  linear_addr?: bigint | string;
  nr_ents?: number;
  vcpumask?: readonly number[];
  src_mfn?: number | bigint;
}

/** The `pdone` out-parameter of mmu_update / mmuext_op: receives the number of requests done. */
export interface DoneCount {
  value: number;
}

/**
 * struct trap_info { uint8_t vector; uint8_t flags; uint16_t cs; unsigned long address; }
 * flags bits 0-1: the DPL; bit 2 (TI_SET_IF): mask events on entry. An entry with address 0
 * ends the table.
 */
export interface TrapInfo {
  vector: number;
  flags: number;
  cs: number;
  address: bigint | string;
}

/**
 * struct multicall_entry { unsigned long op, result; unsigned long args[6]; }. In the model
 * `args` are the typed arguments of the hypercall `op` (as its HYPERVISOR_* method takes them);
 * Xen writes `result` back.
 */
export interface MulticallEntry {
  op: number;
  args: unknown[];
  result?: number;
}
