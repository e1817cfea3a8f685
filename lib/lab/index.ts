export * from './config';
export * from './boot';
export * from './run';
export * from './result';
export * from './guest-stack';
export type { Machine, PlatformInstance } from './machine';
export * from './address-space';
export * from './sweep';
export * from './early-tables';
