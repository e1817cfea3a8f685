#!/usr/bin/env node
/**
 * The `pvops-lab` command; the commands are in cli-main.ts. For a boot of 32 GiB or more, before
 * loading the lab, it starts itself again with glibc's huge-page tunable when it was not started
 * with it (huge-pages.ts): measured here, `repro --memory 64G` 2.85 s instead of 3.2 s and
 * `--memory 256G` 10.5 s instead of 13.4 s. A second process costs about 0.1 s, more than a
 * smaller boot gains (16 GiB: about 0.1 s).
 */
import { rerunWithHugePages } from './huge-pages';
import { parseMemorySize } from './lab/config'; // light: the lab itself loads in cli-main

/** Runs the command line `argv` (without node and the script); returns the exit status. */
export function main(argv: string[]): number {
  return (require('./cli-main') as typeof import('./cli-main')).main(argv);
}

/** The bytes `--memory` asks for; 0 without one or for a bad one (cli-main refuses it). */
function requestedMemory(argv: readonly string[]): number {
  const i = argv.findIndex((a) => a === '--memory' || a.startsWith('--memory='));
  if (i < 0) return 0;
  try {
    return parseMemorySize(argv[i].startsWith('--memory=') ? argv[i].slice('--memory='.length) : argv[i + 1]);
  } catch {
    return 0;
  }
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const rerun = requestedMemory(argv) >= 32 * 2 ** 30 ? rerunWithHugePages() : null;
  process.exitCode = rerun ?? main(argv);
}
