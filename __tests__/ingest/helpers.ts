import { expect } from '@jest/globals';
import fc from 'fast-check';
import { errorCatalogue, isAppError, type ErrorCode } from '../../src/errors.js';

/** Runs `action` and returns what it threw, or fails the test if it returned. */
export function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw, but it returned');
}

/** Asserts that `error` is one of our AppErrors (not a TypeError, RangeError, ...) with `code`. */
export function expectAppError(error: unknown, code: ErrorCode): void {
  if (!isAppError(error)) {
    throw new Error(`expected an AppError ${code}, got ${String(error)}`, { cause: error });
  }
  expect(error).toBeInstanceOf(Error);
  expect(error.code).toBe(code);
  expect(error.status).toBe(errorCatalogue[code].status);
}

/** Asserts that `action` throws an AppError whose code is one of `codes`. */
export function expectOnlyAppErrors(action: () => unknown, codes: readonly ErrorCode[]): void {
  try {
    action();
  } catch (error) {
    if (!isAppError(error) || !codes.includes(error.code)) {
      throw new Error(`expected only AppErrors ${codes.join('/')}, got ${String(error)}`, {
        cause: error,
      });
    }
  }
}

/** Cuts `bytes` at the given offsets (any order, duplicates and out-of-range allowed). */
export function splitAt(bytes: Buffer, offsets: readonly number[]): Buffer[] {
  const cuts = [...new Set(offsets.map((offset) => Math.min(Math.max(offset, 0), bytes.length)))];
  cuts.sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let previous = 0;
  for (const cut of [...cuts, bytes.length]) {
    chunks.push(bytes.subarray(previous, cut));
    previous = cut;
  }
  return chunks;
}

export function oneBytePieces(bytes: Buffer): Buffer[] {
  return Array.from({ length: bytes.length }, (_, index) => bytes.subarray(index, index + 1));
}

/** Random cut offsets for a text of `length` bytes (empty chunks included on purpose). */
export function cutOffsets(length: number): fc.Arbitrary<number[]> {
  return fc.array(fc.integer({ min: 0, max: length }), { maxLength: 12 });
}

/** Wraps text into lines of `width` characters, the way Android's Base64.DEFAULT and MIME do. */
export function wrapLines(text: string, width: number, newline: string): string {
  const lines: string[] = [];
  for (let start = 0; start < text.length; start += width)
    lines.push(text.slice(start, start + width));
  return lines.join(newline);
}
