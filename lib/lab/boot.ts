/**
 * The lab's front door: `boot(config)` makes a run of a kernel variant on a platform.
 *
 *   const run = boot({ variant: '8170e6bed465', platform: 'xen' });
 *   run.runTo('init_mem_mapping');   // paused at its entry
 *   run.run().result().xenConsole;   // the crash, as Xen prints it
 */
import type { TraceRecorder } from '../trace/recorder';
import type { BootConfig, NormalizedConfig } from './config';
import type { PlatformInstance } from './machine';
import { bootBytesNeeded, checkMemoryFits, checkXenLayoutFits } from './memory-need';
import { bareMetalPlatform } from './platforms/bare-metal';
import { xenPlatform } from './platforms/xen';
import { Run } from './run';
import type { RunResult } from './result';

function platformFor(config: NormalizedConfig, trace: TraceRecorder): PlatformInstance {
  return config.platform === 'xen' ? xenPlatform(config, trace) : bareMetalPlatform(config, trace);
}

/**
 * A run, not yet started: step it, run it to a symbol, or run it to the end. A memory size whose
 * boot would not fit in this machine's memory is refused here (LabError 'NOT_ENOUGH_MEMORY'), and
 * so is a Xen guest bigger than the Xen 4.2 builder's initial mapping allows (BAD_CONFIG).
 */
export function boot(config: BootConfig = {}): Run {
  const run = new Run(config, platformFor);
  const c = run.config;
  checkXenLayoutFits(c.platform, c.memoryBytes);
  checkMemoryFits(`booting ${c.variant} on ${c.platform} with ${c.memoryBytes / 2 ** 30} GiB`,
    bootBytesNeeded(c.platform, c.memoryBytes, c.structPageSize));
  return run;
}

/** Boots to the end and returns the result (the CLI's `repro`). */
export function reproduce(config: BootConfig = {}): RunResult {
  return boot(config).checkpointEvery({ off: true }).run().result(); // one run forward: no checkpoints to keep
}
