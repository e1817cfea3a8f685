import { defineConfig } from 'vitest/config';

// The test files StrykerJS runs against mutants of lib/x86 and lib/xen/mm (stryker.config.mjs).
// The invariant fuzz is left out: it takes over a minute on its own, draws a new random seed each
// run (a mutant's verdict must not depend on the seed), and would run for every mutant, since it
// covers all of lib/xen/mm. The deterministic tests of test/x86 and test/xen stay in.
export default defineConfig({
  test: {
    // Each folder is judged by the tests of its own layer: lib/x86 by test/x86 (the lowest
    // layer; the Xen tests reach it only as a side effect, and would make every surviving x86
    // mutant run the whole Xen suite), lib/xen/mm by test/xen (test/x86 never imports it).
    include: process.env.MUTATION_SCOPE === 'xen-mm' ? ['test/xen/**/*.test.ts']
      : process.env.MUTATION_SCOPE === 'x86' ? ['test/x86/**/*.test.ts']
      : ['test/x86/**/*.test.ts', 'test/xen/**/*.test.ts'],
    exclude: ['test/xen/fuzz.test.ts'],
    // One module graph for all test files: each mutant's covering tests then run without
    // re-importing lib/ per file (Stryker switches mutants at run time, and leaves static
    // mutants out, so nothing needs a fresh module). The tests build their own hosts and domains.
    isolate: false,
    testTimeout: 60_000,
    hookTimeout: 600_000,
  },
});
