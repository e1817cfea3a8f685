/**
 * The public ABI numbers of Xen 4.2 for a 64-bit PV guest, with Xen's own names.
 * // xen/include/public/xen.h, arch-x86/xen-x86_64.h, vcpu.h, callback.h (Xen 4.2.0)
 */

// ---- Hypercall numbers (xen/include/public/xen.h) ---------------------------------------------
export const __HYPERVISOR_set_trap_table = 0;
export const __HYPERVISOR_mmu_update = 1;
export const __HYPERVISOR_set_gdt = 2;
export const __HYPERVISOR_stack_switch = 3;
export const __HYPERVISOR_set_callbacks = 4;
export const __HYPERVISOR_fpu_taskswitch = 5;
export const __HYPERVISOR_sched_op_compat = 6;
export const __HYPERVISOR_memory_op = 12;
export const __HYPERVISOR_multicall = 13;
export const __HYPERVISOR_update_va_mapping = 14;
export const __HYPERVISOR_set_timer_op = 15;
export const __HYPERVISOR_xen_version = 17;
export const __HYPERVISOR_console_io = 18;
export const __HYPERVISOR_grant_table_op = 20;
export const __HYPERVISOR_vm_assist = 21;
export const __HYPERVISOR_update_va_mapping_otherdomain = 22;
export const __HYPERVISOR_iret = 23;
export const __HYPERVISOR_vcpu_op = 24;
export const __HYPERVISOR_set_segment_base = 25;
export const __HYPERVISOR_mmuext_op = 26;
export const __HYPERVISOR_sched_op = 29;
export const __HYPERVISOR_callback_op = 30;
export const __HYPERVISOR_event_channel_op = 32;
export const __HYPERVISOR_physdev_op = 33;
/** The size of Xen's hypercall_table (xen/include/asm-x86/config.h: NR_hypercalls 64). */
export const NR_hypercalls = 64;

/** Hypercall names by number, for traces ('mmu_update', ...). */
export const HYPERCALL_NAMES: Readonly<Record<number, string>> = {
  0: 'set_trap_table', 1: 'mmu_update', 2: 'set_gdt', 3: 'stack_switch', 4: 'set_callbacks',
  5: 'fpu_taskswitch', 6: 'sched_op_compat', 12: 'memory_op', 13: 'multicall', 14: 'update_va_mapping',
  15: 'set_timer_op', 17: 'xen_version', 18: 'console_io', 20: 'grant_table_op', 21: 'vm_assist',
  22: 'update_va_mapping_otherdomain', 23: 'iret', 24: 'vcpu_op', 25: 'set_segment_base', 26: 'mmuext_op',
  29: 'sched_op', 30: 'callback_op', 32: 'event_channel_op', 33: 'physdev_op',
};

// ---- mmu_update request types: ptr[2:0] (xen.h; mm.c masks with sizeof(l1_pgentry_t)-1) ---------
export const MMU_NORMAL_PT_UPDATE = 0;
export const MMU_MACHPHYS_UPDATE = 1;
export const MMU_PT_UPDATE_PRESERVE_AD = 2;
/** Set in the count of a preempted mmu_update/mmuext_op continuation (xen.h). */
export const MMU_UPDATE_PREEMPTED = 0x80000000;

// ---- mmuext_op commands (xen.h) -----------------------------------------------------------------
export const MMUEXT_PIN_L1_TABLE = 0;
export const MMUEXT_PIN_L2_TABLE = 1;
export const MMUEXT_PIN_L3_TABLE = 2;
export const MMUEXT_PIN_L4_TABLE = 3;
export const MMUEXT_UNPIN_TABLE = 4;
export const MMUEXT_NEW_BASEPTR = 5;
export const MMUEXT_TLB_FLUSH_LOCAL = 6;
export const MMUEXT_INVLPG_LOCAL = 7;
export const MMUEXT_TLB_FLUSH_MULTI = 8;
export const MMUEXT_INVLPG_MULTI = 9;
export const MMUEXT_TLB_FLUSH_ALL = 10;
export const MMUEXT_INVLPG_ALL = 11;
export const MMUEXT_FLUSH_CACHE = 12;
export const MMUEXT_SET_LDT = 13;
export const MMUEXT_NEW_USER_BASEPTR = 15;
export const MMUEXT_CLEAR_PAGE = 16;
export const MMUEXT_COPY_PAGE = 17;
export const MMUEXT_FLUSH_CACHE_GLOBAL = 18;
export const MMUEXT_MARK_SUPER = 19;
export const MMUEXT_UNMARK_SUPER = 20;

/** MMUEXT command names by number (for traces and countMmuextOp). */
export const MMUEXT_NAMES: Readonly<Record<number, string>> = {
  0: 'MMUEXT_PIN_L1_TABLE', 1: 'MMUEXT_PIN_L2_TABLE', 2: 'MMUEXT_PIN_L3_TABLE', 3: 'MMUEXT_PIN_L4_TABLE',
  4: 'MMUEXT_UNPIN_TABLE', 5: 'MMUEXT_NEW_BASEPTR', 6: 'MMUEXT_TLB_FLUSH_LOCAL', 7: 'MMUEXT_INVLPG_LOCAL',
  8: 'MMUEXT_TLB_FLUSH_MULTI', 9: 'MMUEXT_INVLPG_MULTI', 10: 'MMUEXT_TLB_FLUSH_ALL', 11: 'MMUEXT_INVLPG_ALL',
  12: 'MMUEXT_FLUSH_CACHE', 13: 'MMUEXT_SET_LDT', 15: 'MMUEXT_NEW_USER_BASEPTR', 16: 'MMUEXT_CLEAR_PAGE',
  17: 'MMUEXT_COPY_PAGE', 18: 'MMUEXT_FLUSH_CACHE_GLOBAL', 19: 'MMUEXT_MARK_SUPER', 20: 'MMUEXT_UNMARK_SUPER',
};

// ---- update_va_mapping flags (xen.h) -----------------------------------------------------------
export const UVMF_NONE = 0;
export const UVMF_TLB_FLUSH = 1;
export const UVMF_INVLPG = 2;
export const UVMF_FLUSHTYPE_MASK = 3;
export const UVMF_MULTI = 0;
export const UVMF_LOCAL = 0;
export const UVMF_ALL = 4;

// ---- console_io (xen.h) ------------------------------------------------------------------------
export const CONSOLEIO_write = 0;
export const CONSOLEIO_read = 1;

// ---- vm_assist (xen.h) -------------------------------------------------------------------------
export const VMASST_CMD_enable = 0;
export const VMASST_CMD_disable = 1;
export const VMASST_TYPE_4gb_segments = 0;
export const VMASST_TYPE_4gb_segments_notify = 1;
export const VMASST_TYPE_writable_pagetables = 2;
export const VMASST_TYPE_pae_extended_cr3 = 3;
/** The vm_assist types a 64-bit PV guest may set (asm-x86/config.h: VM_ASSIST_VALID on x86_64). */
export const MAX_VMASST_TYPE = 3;

// ---- vcpu_op (public/vcpu.h) ------------------------------------------------------------------
export const VCPUOP_initialise = 0;
export const VCPUOP_up = 1;
export const VCPUOP_down = 2;
export const VCPUOP_is_up = 3;
export const VCPUOP_get_runstate_info = 4;
export const VCPUOP_register_runstate_memory_area = 5;
export const VCPUOP_set_periodic_timer = 6;
export const VCPUOP_stop_periodic_timer = 7;
export const VCPUOP_set_singleshot_timer = 8;
export const VCPUOP_stop_singleshot_timer = 9;
export const VCPUOP_register_vcpu_info = 10;
export const VCPUOP_send_nmi = 11;
export const VCPUOP_get_physid = 12;

// ---- callbacks (public/callback.h) ------------------------------------------------------------
export const CALLBACKTYPE_event = 0;
export const CALLBACKTYPE_failsafe = 1;
export const CALLBACKTYPE_syscall = 2;
export const CALLBACKTYPE_nmi = 4;

// ---- domain ids (xen.h) ------------------------------------------------------------------------
export const DOMID_FIRST_RESERVED = 0x7ff0;
export const DOMID_SELF = 0x7ff0;
export const DOMID_IO = 0x7ff1;
export const DOMID_XEN = 0x7ff2;
export const DOMID_COW = 0x7ff3;
export const DOMID_INVALID = 0x7ff4;
export const DOMID_IDLE = 0x7fff;

// ---- start_info (xen.h) ------------------------------------------------------------------------
export const MAX_GUEST_CMDLINE = 1024;
export const SIF_PRIVILEGED = 1 << 0;
export const SIF_INITDOMAIN = 1 << 1;
export const SIF_MULTIBOOT_MOD = 1 << 2;
export const SIF_MOD_START_PFN = 1 << 3;
/** Byte offsets of struct start_info on x86_64 (natural alignment; sizeof 1168). */
export const START_INFO_OFFSETS = {
  magic: 0, nr_pages: 32, shared_info: 40, flags: 48, store_mfn: 56, store_evtchn: 64,
  console_mfn: 72, console_evtchn: 80, pt_base: 88, nr_pt_frames: 96, mfn_list: 104, mod_start: 112,
  mod_len: 120, cmd_line: 128, first_p2m_pfn: 1152, nr_p2m_frames: 1160,
} as const;
export const SIZEOF_START_INFO = 1168;

// ---- segment selectors (arch-x86/xen-x86_64.h) --------------------------------------------------
export const FLAT_RING3_CS32 = 0xe023;
export const FLAT_RING3_CS64 = 0xe033;
export const FLAT_RING3_DS32 = 0xe02b;
export const FLAT_RING3_DS64 = 0x0000;
export const FLAT_RING3_SS32 = 0xe02b;
export const FLAT_RING3_SS64 = 0xe02b;
export const FLAT_KERNEL_CS64 = FLAT_RING3_CS64;
export const FLAT_KERNEL_DS64 = FLAT_RING3_DS64;
export const FLAT_KERNEL_SS64 = FLAT_RING3_SS64;
export const FLAT_KERNEL_CS = FLAT_KERNEL_CS64;
export const FLAT_KERNEL_DS = FLAT_KERNEL_DS64;
export const FLAT_KERNEL_SS = FLAT_KERNEL_SS64;

// ---- the virtual layout Xen reserves (arch-x86/xen-x86_64.h, asm-x86/config.h) -----------------
// Kept as bits 47:0 (numbers), as every address in the model's hot paths.
/** HYPERVISOR_VIRT_START 0xffff800000000000, bits 47:0 */
export const HYPERVISOR_VIRT_START = 0x800000000000;
/** HYPERVISOR_VIRT_END 0xffff880000000000, bits 47:0 */
export const HYPERVISOR_VIRT_END = 0x880000000000;
/** MACH2PHYS_VIRT_START: the read-only M2P every PV guest sees (machine_to_phys_mapping) */
export const MACH2PHYS_VIRT_START = 0x800000000000;
export const MACH2PHYS_VIRT_END = 0x804000000000;
/** RO_MPT_VIRT_START / END (asm-x86/config.h): the same range, Xen's name for it */
export const RO_MPT_VIRT_START = MACH2PHYS_VIRT_START;
export const RO_MPT_VIRT_END = MACH2PHYS_VIRT_END;
/** LINEAR_PT_VIRT_START 0xffff810000000000: slot 258, Xen's self-map of the current L4 */
export const LINEAR_PT_VIRT_START = 0x810000000000;
/** PERDOMAIN_VIRT_START 0xffff820000000000: slot 260 (GDT/LDT mappings) */
export const PERDOMAIN_VIRT_START = 0x820000000000;
/** GDT_LDT_VIRT_START = PERDOMAIN_VIRT_START; GDT_LDT_VIRT_END = + (GDT_LDT_MBYTES = PERDOMAIN_MBYTES = 1024) MiB (asm-x86/config.h) */
export const GDT_LDT_VIRT_START = PERDOMAIN_VIRT_START;
export const GDT_LDT_VIRT_END = PERDOMAIN_VIRT_START + 2 ** 30;
/** ROOT_PAGETABLE_FIRST_XEN_SLOT .. LAST (asm-x86/config.h) */
export const ROOT_PAGETABLE_FIRST_XEN_SLOT = 256;
export const ROOT_PAGETABLE_LAST_XEN_SLOT = 271;
export const ROOT_PAGETABLE_XEN_SLOTS = ROOT_PAGETABLE_LAST_XEN_SLOT - ROOT_PAGETABLE_FIRST_XEN_SLOT + 1;

// ---- trap vectors (asm-x86/processor.h) -------------------------------------------------------
export const TRAP_page_fault = 14;
export const TRAP_syscall = 256;
