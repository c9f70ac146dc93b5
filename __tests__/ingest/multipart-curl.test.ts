import { describe, expect, it } from '@jest/globals';
import { curlFormBody, fixture, fixturesDirectory } from '../support/requests.js';
import { expectAppError, oneBytePieces } from './helpers.js';
import { failureOf, limits, Pieces, readImage } from './multipart-reading.js';

// What the real curl binary sends with -F (so not in `npm run test:unit`, which needs no curl).

const jpeg = fixture('photo.jpg');

describe('readSingleImagePart: bodies made by curl', () => {
  it('reads what curl -F sends', async () => {
    const built = await curlFormBody([
      'title=from curl',
      `file=@${fixturesDirectory}/photo.jpg;type=image/jpeg`,
    ]);
    expect(built.contentType).toMatch(/^multipart\/form-data; boundary=/);
    const read = await readImage(built, oneBytePieces(built.body));
    expect(read.bytes.equals(jpeg)).toBe(true);
    expect(read.hints).toEqual({
      field: 'file',
      filename: 'photo.jpg',
      declaredType: 'image/jpeg',
    });
    expect(read.fields).toEqual([{ name: 'title', value: 'from curl' }]);
  });

  it('tells curl -F "file=<photo" (a text field, not a file) apart in missing_file', async () => {
    const built = await curlFormBody([`file=<${fixturesDirectory}/text.txt`]);
    const { error } = await failureOf(new Pieces([built.body]), built.contentType, {
      ...limits,
      maxFieldBytes: 1024,
    });
    expectAppError(error, 'missing_file');
    expect((error as Error).message).toMatch(/text field/);
  });
});
