import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { drivers, fixture, jsonBody, makeApp, type AppUnderTest } from './helpers.js';

/**
 * Random and mutated bodies sent to the HTTP layer: never a 5xx, never a crash, and nothing
 * stored unless the answer was 201 (a mutation can leave a valid image, which is then stored
 * and removed again so the next run starts from an empty store).
 */

const images: [string, string][] = [
  ['photo.png', 'image/png'],
  ['photo.jpg', 'image/jpeg'],
  ['anim.gif', 'image/gif'],
  ['photo.webp', 'image/webp'],
  ['photo.avif', 'image/avif'],
  ['polyglot.png', 'image/png'],
];

/** Byte-level mutations: overwrite, insert, delete, truncate. */
const mutation = fc.oneof(
  fc.record({
    kind: fc.constant('set' as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ maxLength: 16 }),
  }),
  fc.record({
    kind: fc.constant('delete' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 32 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(input: Buffer, mutations: readonly Mutation[]): Buffer {
  let bytes = Buffer.from(input);
  for (const change of mutations) {
    const at = bytes.length === 0 ? 0 : change.at % bytes.length;
    if (change.kind === 'set') bytes[at] = change.value;
    else if (change.kind === 'insert')
      bytes = Buffer.concat([bytes.subarray(0, at), change.bytes, bytes.subarray(at)]);
    else if (change.kind === 'delete')
      bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + change.length)]);
    else bytes = bytes.subarray(0, at);
  }
  return bytes;
}

const body = fc.oneof(
  // Arbitrary bytes.
  fc.uint8Array({ maxLength: 2048 }).map((bytes) => Buffer.from(bytes)),
  // Arbitrary JSON values, and objects whose "data" is any string.
  fc.json().map((json) => Buffer.from(json)),
  fc.string().map((data) => Buffer.from(JSON.stringify({ data }))),
  fc.string().map((rest) => Buffer.from(JSON.stringify({ data: `data:image/png;base64,${rest}` }))),
  // A valid request body with its bytes mutated.
  fc
    .tuple(fc.constantFrom(...images), fc.array(mutation, { minLength: 1, maxLength: 4 }))
    .map(([[name, type], changes]) => mutate(Buffer.from(jsonBody(fixture(name), type)), changes)),
  // A valid data URI around a mutated image: these reach validation.
  fc
    .tuple(fc.constantFrom(...images), fc.array(mutation, { minLength: 1, maxLength: 4 }))
    .map(([[name, type], changes]) => Buffer.from(jsonBody(mutate(fixture(name), changes), type))),
);

/** Mostly the headers a real client sends, so that most bodies reach the pipeline. */
const headers = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8'),
      contentEncoding: fc.constant(undefined),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      contentType: fc.constantFrom(
        'application/json',
        'application/vnd.api+json',
        'text/plain',
        'image/png',
        'multipart/form-data; boundary=x',
      ),
      contentEncoding: fc.option(fc.constantFrom('gzip', 'identity', 'br', 'x-unknown', ''), {
        nil: undefined,
      }),
    }),
  },
);

describe.each(drivers)('random and mutated requests on the %s driver', (driver) => {
  const subjects: Partial<Record<'decode' | 'structure', AppUnderTest>> = {};
  beforeAll(async () => {
    subjects.decode = await makeApp(driver, { IMAGE_VALIDATION: 'decode' });
    subjects.structure = await makeApp(driver, { IMAGE_VALIDATION: 'structure' });
  });
  afterAll(async () => {
    await subjects.decode?.cleanup();
    await subjects.structure?.cleanup();
  });

  it('never answers 5xx and never stores what it refused', async () => {
    await fc.assert(
      fc.asyncProperty(
        body,
        headers,
        fc.constantFrom('decode' as const, 'structure' as const),
        async (payload, { contentType, contentEncoding }, mode) => {
          const subject = subjects[mode]!;
          const response = await subject.postBytes(
            '/v1/images',
            {
              'Content-Type': contentType,
              ...(contentEncoding === undefined ? {} : { 'Content-Encoding': contentEncoding }),
            },
            payload,
          );
          expect(response.status).toBeLessThan(500);
          expect(response.body).toEqual(
            response.status === 201
              ? expect.objectContaining({ name: expect.any(String) })
              : { error: { code: expect.any(String), message: expect.any(String) } },
          );
          const stored = await subject.stored();
          if (response.status === 201) {
            const { name } = response.body as { name: string };
            expect(stored).toEqual([name]);
            await subject.store.delete(name);
          } else {
            expect(stored).toEqual([]);
          }
        },
      ),
      { numRuns: driver === 'local' ? 300 : 100 },
    );
  });
});
