import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { isAppError } from '../../src/errors.js';
import { maxPartialUploads, parseUploadConcat } from '../../src/uploads/tus-headers.js';

/** Upload-Concat, parsed without a server: what is taken, and that nothing else is. */

const origin = 'http://api.example:3000';
const uploadId = fc.uuid().map((id) => id.toLowerCase());
/** One partial's URL as a client may send it: a path, or absolute on the service's origin. */
const partialUrl = fc
  .tuple(uploadId, fc.constantFrom('', origin, 'http://API.example:3000'))
  .map(([id, prefix]) => ({ id, url: `${prefix}/v1/uploads/${id}` }));

function refusal(raw: string): string | undefined {
  try {
    parseUploadConcat(raw, origin);
    return undefined;
  } catch (error) {
    return isAppError(error) ? error.code : 'not an AppError';
  }
}

describe('parseUploadConcat', () => {
  it('takes partial, and no header at all as an ordinary upload', () => {
    expect(parseUploadConcat('partial', origin)).toEqual({ kind: 'partial' });
    expect(parseUploadConcat(' partial ', origin)).toEqual({ kind: 'partial' });
    expect(parseUploadConcat(undefined, origin)).toBeUndefined();
    expect(parseUploadConcat('', origin)).toBeUndefined();
  });

  it('takes final; and up to the limit of distinct partial URLs, in order, as sent', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(partialUrl, {
          minLength: 1,
          maxLength: maxPartialUploads,
          selector: ({ id }) => id,
        }),
        fc.constantFrom('', ' '),
        (partials, space) => {
          const urls = partials.map(({ url }) => url);
          expect(parseUploadConcat(`final;${space}${urls.join(' ')}`, origin)).toEqual({
            kind: 'final',
            partials: partials.map(({ id }) => id),
            urls,
          });
        },
      ),
    );
  });

  it('refuses anything else with invalid_upload_concat (too many partials with their own error), never another', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-ascii', maxLength: 200 }), (raw) => {
        const value = raw.trim();
        fc.pre(value !== '' && value !== 'partial');
        const parsed = (() => {
          try {
            return parseUploadConcat(raw, origin);
          } catch {
            return undefined;
          }
        })();
        // Whatever is taken names only this service's upload ids.
        if (parsed?.kind === 'final') {
          for (const id of parsed.partials) expect(id).toMatch(/^[0-9a-f-]{36}$/);
        } else {
          expect(refusal(raw)).toBe('invalid_upload_concat');
        }
      }),
    );
    const id = '0b6c5a4e-5a8e-4c8e-9b0a-2f1e3d4c5b6a';
    for (const raw of [
      'final',
      'final;',
      'partial; ',
      `final;/v1/uploads/${id} /v1/uploads/${id}`,
      `final;https://api.example:3000/v1/uploads/${id}`,
      `final;http://api.example/v1/uploads/${id}`,
      `final;http://other.example:3000/v1/uploads/${id}`,
      `final;http://me@api.example:3000/v1/uploads/${id}`,
      `final;/v1/uploads/${id}/`,
      `final;/v1/uploads/${id.toUpperCase()}`,
    ]) {
      expect([raw, refusal(raw)]).toEqual([raw, 'invalid_upload_concat']);
    }
    // One limit, one error: more partials than a final upload joins.
    const many = (count: number): string =>
      `final;${Array.from({ length: count }, (_, index) => `/v1/uploads/${id.slice(0, -2)}${String(index).padStart(2, '0')}`).join(' ')}`;
    expect(refusal(many(maxPartialUploads + 1))).toBe('too_many_partial_uploads');
    expect(parseUploadConcat(many(maxPartialUploads), origin)?.kind).toBe('final');
  });
});
