/** printk's %#010lx (lib/vsprintf.c): "0x" and at least 8 hex digits. */
export function fmt010(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}
