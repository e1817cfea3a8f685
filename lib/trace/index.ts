export * from './events';
export * from './recorder';
