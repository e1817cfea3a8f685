/** lib/x86: the x86-64 paging hardware (Intel SDM vol. 3, chapter 4), knowing nothing of Xen or Linux. */
export * from './address';
export * from './pte';
export * from './page-fault';
export * from './physical-memory';
export * from './access-rights';
export * from './walk';
export * from './cpu';
export * from './tlb';
export * from './mmu';
export * from './bare-metal-cpu';
export * from './ptdump';
