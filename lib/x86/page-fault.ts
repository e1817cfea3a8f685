/**
 * The page-fault error code (Intel SDM vol. 3, 4.7 "Page-Fault Exceptions", figure 4-12).
 *
 *   bit 0  P     0: the fault was caused by a non-present page; 1: by a protection violation
 *   bit 1  W/R   0: a read; 1: a write
 *   bit 2  U/S   0: a supervisor-mode access; 1: a user-mode access
 *   bit 3  RSVD  1: a reserved bit was set in some paging-structure entry
 *   bit 4  I/D   1: an instruction fetch (reported only when CR4.SMEP or EFER.NXE is 1)
 */
import { expectInteger } from '../errors';

/** P (bit 0): 0 = not-present page, 1 = protection violation. */
export const PFEC_PRESENT = 1 << 0;
/** W/R (bit 1): the access was a write. */
export const PFEC_WRITE = 1 << 1;
/** U/S (bit 2): the access was made in user mode. */
export const PFEC_USER = 1 << 2;
/** RSVD (bit 3): a reserved bit was set in a paging-structure entry. */
export const PFEC_RSVD = 1 << 3;
/** I/D (bit 4): the access was an instruction fetch (only with SMEP or NXE). */
export const PFEC_INSTR = 1 << 4;

/** An error code split into its bits, with one explaining sentence per bit. */
export interface DecodedErrorCode {
  value: number;
  /** "0000" style, as Xen prints it (%04X) */
  hex: string;
  present: boolean;
  write: boolean;
  user: boolean;
  reserved: boolean;
  fetch: boolean;
  /** one sentence per bit, e.g. "P=0: the page was not present" */
  bits: string[];
}

/** Decodes an error code bit by bit. */
export function decodeErrorCode(value: number): DecodedErrorCode {
  expectInteger('errorCode', value, 0, 0xffffffff);
  const present = (value & PFEC_PRESENT) !== 0;
  const write = (value & PFEC_WRITE) !== 0;
  const user = (value & PFEC_USER) !== 0;
  const reserved = (value & PFEC_RSVD) !== 0;
  const fetch = (value & PFEC_INSTR) !== 0;
  return {
    value,
    hex: value.toString(16).toUpperCase().padStart(4, '0'),
    present, write, user, reserved, fetch,
    bits: [
      present ? 'P=1: a protection violation on a present page' : 'P=0: the page was not present',
      write ? 'W/R=1: the access was a write' : 'W/R=0: the access was a read',
      user ? 'U/S=1: the access was made in user mode' : 'U/S=0: the access was made in supervisor mode',
      reserved ? 'RSVD=1: a reserved bit was set in a paging-structure entry' : 'RSVD=0: no reserved bit was set',
      fetch ? 'I/D=1: the access was an instruction fetch' : 'I/D=0: not an instruction fetch (or neither SMEP nor NXE is on)',
    ],
  };
}
