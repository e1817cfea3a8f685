/**
 * The one error type of pvops-lab. Every refusal of bad input is a `LabError` with a stable
 * `code` and a message that names the argument, the value given and what is allowed. It is
 * thrown before any state changes, so a caller (a notebook cell) can catch it and go on.
 */
export type LabErrorCode =
  | 'NON_CANONICAL'        // a virtual address whose bits 63:47 are not all equal (#GP on hardware)
  | 'MALFORMED_ADDRESS'    // not a bigint or a hex string, or more than 64 bits
  | 'FRAME_OUT_OF_RANGE'   // a frame number outside what MAXPHYADDR (or the host) allows
  | 'ADDRESS_OUT_OF_RANGE' // a physical address above MAXPHYADDR or not 8-byte aligned
  | 'VALUE_OUT_OF_RANGE'   // a value that does not fit 64 bits, or a number out of its range
  | 'WRONG_TYPE'           // an argument of the wrong JavaScript type
  | 'UNKNOWN_ACCESS_KIND'  // an access kind other than read, write or fetch
  | 'UNKNOWN_VARIANT'      // a kernel variant the lab does not model
  | 'UNKNOWN_PLATFORM'     // a platform other than xen or bare-metal
  | 'UNKNOWN_SYMBOL'       // a symbol the kernel variant's symbol table does not have
  | 'BAD_CONFIG'           // a configuration value out of its allowed range
  | 'DOMAIN_DEAD'          // a request to a domain that has crashed
  | 'INVALID_STATE'        // an operation not possible in the current state (e.g. step after the end)
  | 'UNKNOWN_WHAT_IF'      // a what-if name the lab does not model
  | 'WHAT_IF_NOT_APPLICABLE' // a what-if on a variant or platform where it means nothing
  | 'UNKNOWN_XEN_RELEASE'  // a Xen release the lab does not model
  | 'UNKNOWN_PATCH'        // a Xen patch (XSA fix) the lab does not model
  | 'NOT_XEN'              // a Xen-only question asked of a bare-metal run
  | 'BAD_SNAPSHOT'         // a snapshot from another run, beyond the run, or not a snapshot
  | 'NO_EARLIER_STEP'      // a step back from (or past) step 0
  | 'NO_FAULT'             // a fault explanation asked of a run that has not faulted
  | 'NOT_ENOUGH_MEMORY'    // a boot or sweep bigger than this machine's available memory
  | 'UNKNOWN_XSA';         // an XSA scenario the lab does not model            // a fault explanation asked of a run that has not faulted

export class LabError extends Error {
  readonly code: LabErrorCode;

  constructor(code: LabErrorCode, message: string) {
    super(message);
    this.name = 'LabError';
    this.code = code;
  }
}

/** Describes a value for an error message: its type and a short rendering. */
export function describeValue(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n (bigint)`;
  if (typeof value === 'string') return `${JSON.stringify(value)} (string)`;
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return `${value} (number)`;
  if (typeof value === 'object') return `an object (${Object.prototype.toString.call(value)})`;
  return `${String(value)} (${typeof value})`;
}

/** Throws WRONG_TYPE unless `value` is a boolean (or undefined when optional). */
export function expectBoolean(name: string, value: unknown, optional = false): boolean | undefined {
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'boolean') {
    throw new LabError('WRONG_TYPE', `${name} must be a boolean${optional ? ' or left out' : ''}; got ${describeValue(value)}`);
  }
  return value;
}

/** Throws unless `value` is an integer number in [min, max]. */
export function expectInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new LabError('WRONG_TYPE', `${name} must be an integer number from ${min} to ${max}; got ${describeValue(value)}`);
  }
  if (value < min || value > max) {
    throw new LabError('VALUE_OUT_OF_RANGE', `${name} must be from ${min} to ${max}; got ${value}`);
  }
  return value;
}
