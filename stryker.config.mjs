// StrykerJS configuration for `npm run mutation`, which runs it twice: MUTATION_SCOPE=x86 (mutants
// of lib/x86, judged by test/x86) and MUTATION_SCOPE=xen-mm (mutants of lib/xen/mm, judged by
// test/xen), then prints the score per folder (scripts/mutation-summary.cjs). Unset, the scope is
// both folders against both test folders. vitest.mutation.config.mts picks the tests (the slow,
// randomly seeded fuzz is left out). Reports: test-output/mutation/<scope>.json.
const scopes = {
  all: ['lib/x86/**/*.ts', '!lib/x86/index.ts', 'lib/xen/mm/**/*.ts'],
  x86: ['lib/x86/**/*.ts', '!lib/x86/index.ts'],
  'xen-mm': ['lib/xen/mm/**/*.ts'],
};
const scope = process.env.MUTATION_SCOPE ?? 'all';
if (!(scope in scopes)) {
  throw new Error(`MUTATION_SCOPE must be one of ${Object.keys(scopes).join(', ')}; got '${scope}'`);
}
// MUTATION_FILES=lib/x/a.ts,lib/x/b.ts:10-40 (paths from the project root, optionally a line range) narrows
// a run to some files of the scope; such a
// run writes its own report (<scope>-<files>.json), which scripts/mutation-summary.cjs merges
// with the others (for each file, the newest report that holds it counts).
const files = process.env.MUTATION_FILES ? process.env.MUTATION_FILES.split(',').map((f) => f.trim()).filter(Boolean) : null;
const name = files ? `${scope}-${files.map((f) => f.replace(/^.*\//, '').replace(/\.ts(?::(.*))?$/, (_m, r) => (r ? `@${r}` : ''))).join('+')}` : scope;
const out = 'test-output/mutation';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.mutation.config.mts', related: false },
  mutate: files ?? scopes[scope],
  coverageAnalysis: 'perTest',
  // Left out, to keep a run within an hour on a small machine: string literals (almost all are
  // LabError and MEM_LOG message texts, which tests match by code, not by wording) and static
  // mutants (module-level constants; each would need the whole suite, not just its covering tests).
  mutator: { excludedMutations: ['StringLiteral'] },
  ignoreStatic: true,
  // The machine is small and shared: one test-runner process.
  concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 1),
  timeoutMS: 20_000,
  timeoutFactor: 2,
  // Re-runs only test mutants whose code or covering tests changed since the last run.
  incremental: true,
  incrementalFile: `${out}/${name}-incremental.json`,
  reporters: ['clear-text', 'json', 'progress-append-only'],
  jsonReporter: { fileName: `${out}/${name}.json` },
  clearTextReporter: { reportMutants: false, reportTests: false, reportScoreTable: true },
  tempDirName: '.stryker-tmp',
  // The project's TypeScript is 7 (the native compiler, no JavaScript API), which Stryker's
  // tsconfig rewriting cannot load; the sandbox needs no tsconfig rewrite (no extends or
  // references outside it), so point that step at a file that does not exist.
  tsconfigFile: 'tsconfig.stryker-unused.json',
  ignorePatterns: ['dist', 'site', 'test-output', 'notebooks', 'bench', '.venv', '.stryker-tmp*'],
  thresholds: { high: 90, low: 80, break: null },
};
