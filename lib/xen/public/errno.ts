/**
 * Xen's error numbers, as hypercalls return them negated (-EINVAL ...).
 * // xen/include/xen/errno.h (Xen 4.2.0)
 */
export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
export const EINTR = 4;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EBUSY = 16;
export const EINVAL = 22;
export const ENOSYS = 38;

const NAMES: Readonly<Record<number, string>> = {
  0: '0', [-EPERM]: '-EPERM', [-ENOENT]: '-ENOENT', [-ESRCH]: '-ESRCH', [-EINTR]: '-EINTR', [-EAGAIN]: '-EAGAIN',
  [-ENOMEM]: '-ENOMEM', [-EACCES]: '-EACCES', [-EFAULT]: '-EFAULT', [-EBUSY]: '-EBUSY', [-EINVAL]: '-EINVAL',
  [-ENOSYS]: '-ENOSYS',
};

/** The symbolic name of a hypercall return code: 0, '-EINVAL', ... (the number itself if unknown). */
export function xenErrorName(rc: number): string {
  return NAMES[rc] ?? String(rc);
}
