import { expect } from '@jest/globals';
import { errorCatalogue, type ErrorCode } from '../../src/errors.js';

interface ErrorResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: unknown;
}

/**
 * The one error shape: the catalogue's status, JSON {"error": {"code", "message"}} and nothing
 * else, so no stack trace or internal detail can ride along.
 */
export function expectErrorResponse(response: ErrorResponse, code: ErrorCode): void {
  expect({ status: response.status, body: response.body }).toEqual({
    status: errorCatalogue[code].status,
    body: { error: { code, message: expect.any(String) } },
  });
  expect(String(response.headers['content-type'])).toMatch(/^application\/json/);
  const text = JSON.stringify(response.body);
  expect(text).not.toMatch(/\bat .+:\d+:\d+|\.ts\b|node_modules|Error:/);
}
