import { describe, expect, it } from '@jest/globals';
import { CRC32C } from '@google-cloud/storage';
import fc from 'fast-check';
import { loadNativeCrc32cGenerator } from '../../src/storage/native-crc32c.js';
import { splitAt } from '../ingest/helpers.js';

describe('native CRC32C for the upload validation', () => {
  it('loads on the machines the project runs on', async () => {
    // Where it cannot load, the client's JavaScript validator is used: slower, still correct.
    expect(await loadNativeCrc32cGenerator()).toBeDefined();
  });

  it('gives the standard check value', async () => {
    const validator = (await loadNativeCrc32cGenerator())!();
    validator.update(Buffer.from('123456789'));
    expect(Buffer.from(validator.toString(), 'base64').readUInt32BE()).toBe(0xe3069283);
  });

  it('agrees with the client own CRC32C, however the bytes are cut', async () => {
    const generator = (await loadNativeCrc32cGenerator())!;
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 5000 }),
        fc.array(fc.nat({ max: 5000 })),
        (raw, cuts) => {
          const bytes = Buffer.from(raw);
          const native = generator();
          for (const piece of splitAt(bytes, cuts)) native.update(piece);
          const reference = new CRC32C();
          reference.update(bytes);
          expect(native.toString()).toBe(reference.toString());
          expect(native.validate(reference.toString())).toBe(true);
          expect(native.validate(Buffer.from([1, 2, 3, 4]).toString('base64'))).toBe(
            reference.toString() === 'AQIDBA==',
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
