/** pvops-lab: the public API. Notebooks, tests and the CLI import from here. */
export * from './errors';
export * from './x86';
export * from './trace';
export * from './xen';
export * from './linux';
export * from './lab';
export * from './viz';
