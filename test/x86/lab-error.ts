/** Test helper: the LabError a call throws, failing the test if it throws nothing or something else. */
import { expect } from 'vitest';
import { LabError } from '../../lib';

export function labError(fn: () => unknown): LabError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(LabError);
    return e as LabError;
  }
  throw new Error('expected a LabError, but nothing was thrown');
}
