export * from './events';
export * from './recorder';
export * from './routine-log';
