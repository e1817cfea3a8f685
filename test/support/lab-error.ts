/**
 * expectLabError(fn, code): `fn` must throw a LabError with exactly this code (and, when given,
 * a message matching `message`). A bare `toThrow(LabError)` would pass for any refusal, including
 * one for the wrong reason.
 */
import { expect } from 'vitest';
import { LabError } from '../../lib/errors';

export function expectLabError(fn: () => unknown, code: string, message?: RegExp): LabError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  if (thrown === undefined) throw new Error(`expected a LabError ${code}, but nothing was thrown`);
  expect(thrown).toBeInstanceOf(LabError);
  const err = thrown as LabError;
  expect(err.code, `LabError code (message: ${err.message})`).toBe(code);
  if (message !== undefined) expect(err.message).toMatch(message);
  return err;
}
