export * from './address';
export * from './pte';
export * from './page-fault';
export * from './physical-memory';
export * from './walk';
export * from './cpu';
