/**
 * The guest's view of the hypervisor: the hypercalls Linux issues (arch/x86/include/asm/xen/
 * hypercall.h, v3.9: HYPERVISOR_*), the read-only M2P table Xen maps into every PV guest
 * (machine_to_phys_mapping) and start_info. The lab connects it to the Xen model's vCPU.
 */
export interface MmuUpdateReq {
  /** machine address of the entry | MMU_* command in bits 2:0 */
  ptr: bigint;
  val: bigint;
}

export interface MmuextOpReq {
  cmd: number;
  mfn?: number;
  linear_addr?: bigint;
}

export type MulticallReq =
  | { op: 'mmu_update'; reqs: MmuUpdateReq[] }
  | { op: 'mmuext_op'; ops: MmuextOpReq[] }
  | { op: 'update_va_mapping'; va: bigint; val: bigint; flags: number };

/** start_info (xen/include/public/xen.h) as the guest reads it; addresses are guest virtual (bits 47:0). */
export interface GuestStartInfo {
  nr_pages: number;
  /** virtual address of the P2M list the builder wrote (unsigned long mfn_list[nr_pages]) */
  mfn_list: number;
  /** virtual address of the bootstrap L4 */
  pt_base: number;
  nr_pt_frames: number;
  /** virtual address of start_info itself */
  start_info: number;
  /** SIF_* flags (SIF_INITDOMAIN for dom0); absent: 0 */
  flags?: number;
}

/** SIF_PRIVILEGED, SIF_INITDOMAIN (xen/include/public/xen.h) */
export const SIF_PRIVILEGED = 1;
export const SIF_INITDOMAIN = 2;

export interface XenHypercalls {
  HYPERVISOR_mmu_update(reqs: MmuUpdateReq[]): number;
  HYPERVISOR_mmuext_op(ops: MmuextOpReq[]): number;
  HYPERVISOR_update_va_mapping(va: bigint, val: bigint, flags: number): number;
  /** each entry's result is written back; returns the multicall's own code */
  HYPERVISOR_multicall(entries: MulticallReq[]): { rc: number; results: number[] };
  /** machine_to_phys_mapping[mfn]: the read-only M2P */
  mfn_to_pfn(mfn: number): number;
  /**
   * HYPERVISOR_memory_op(cmd, arg): XENMEM_machine_memory_map (the map, or an error), _maximum_reservation,
   * _decrease_reservation (arg: mfns), _populate_physmap (arg: pfns; `out` receives the mfns); the
   * count done (or the map) comes back
   */
  HYPERVISOR_memory_op(cmd: number, arg?: readonly number[], out?: number[]): number | { addr: number; size: number; type: number }[];
  /** HYPERVISOR_vm_assist(cmd, type): ask Xen for an assist (writable page tables ...) */
  HYPERVISOR_vm_assist(cmd: number, type: number): number;
  /** HYPERVISOR_set_trap_table: the virtual IDT, one entry per vector (address 0 ends it) */
  HYPERVISOR_set_trap_table(entries: { vector: number; flags: number; cs: number; address: bigint }[]): number;
  /** tells the platform which guest code runs at a kernel address (a trap handler's entry) */
  registerGuestCode(address: bigint, fn: (frame: { errorCode: number; cr2: bigint; rip: bigint }) => void): void;
  /** vcpu_info.evtchn_upcall_mask: what local_irq_save/restore change under Xen */
  setUpcallMask(masked: boolean): void;
  readonly start_info: GuestStartInfo;
}

// mmuext_op commands and mmu_update types (xen/include/public/xen.h)
export const MMUEXT_PIN_L1_TABLE = 0;
export const MMUEXT_PIN_L4_TABLE = 3;
export const MMUEXT_UNPIN_TABLE = 4;
export const MMUEXT_NEW_BASEPTR = 5;
export const MMUEXT_TLB_FLUSH_LOCAL = 6;
export const MMUEXT_NEW_USER_BASEPTR = 15;
export const MMU_NORMAL_PT_UPDATE = 0;
export const UVMF_INVLPG = 2;
export const XENMEM_decrease_reservation = 1;
export const XENMEM_maximum_reservation = 4;
export const XENMEM_populate_physmap = 6;
export const XENMEM_memory_map = 9;
export const XENMEM_machine_memory_map = 10;
export const VMASST_CMD_enable = 0;
export const VMASST_TYPE_4gb_segments = 0;
export const VMASST_TYPE_writable_pagetables = 2;
export const VMASST_TYPE_pae_extended_cr3 = 3;
