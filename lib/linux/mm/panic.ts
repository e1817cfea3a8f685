/** panic() (kernel/panic.c, v3.9): the kernel stops; the platform sees a halted guest. */
import { GuestHalted } from '../../x86/cpu';
import type { Kernel } from '../kernel';

export class KernelPanic extends GuestHalted {
  constructor(message: string) {
    super(`Kernel panic - not syncing: ${message}`);
    this.name = 'KernelPanic';
  }
}

// kernel/panic.c (v3.9)
export function panic(k: Kernel, message: string): never {
  k.console.push(`Kernel panic - not syncing: ${message}`);
  throw new KernelPanic(message);
}
