import { afterAll, describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import type { HeifDecoder } from '../../../src/images/codecs/heif/index.js';
import { NativeHeifDecoder } from '../../../src/images/codecs/heif/native-decoder.js';
import { WasmHeifDecoder } from '../../../src/images/codecs/heif/wasm-decoder.js';
import {
  cameraHeics,
  decodedByHeifConvert,
  meanDifference,
  thumbnailOf,
  twoHundredMegapixelHeic,
  withBrokenHevcData,
} from '../../support/heic.js';
import { fixture } from '../../support/requests.js';

/**
 * Both HEIF decoders behind one interface, with the same limits: libheif-js in worker threads
 * (the default) and Debian's heif-convert. Real camera files; the failures are real too (a
 * broken HEVC stream, workers that crash, hang or run out of memory), and each fails only its
 * own image.
 */

const limits = { maxPixels: 100_000_000, timeoutMs: 60_000 };
const opened: HeifDecoder[] = [];
afterAll(async () => {
  await Promise.all(opened.map((decoder) => decoder.close()));
});

function wasm(options: Partial<ConstructorParameters<typeof WasmHeifDecoder>[0]> = {}) {
  const decoder = new WasmHeifDecoder({ workers: 1, ...options });
  opened.push(decoder);
  return decoder;
}

const decoders: [string, () => Promise<HeifDecoder>][] = [
  ['libheif-js (WebAssembly)', () => Promise.resolve(wasm())],
  ['heif-convert (native)', () => NativeHeifDecoder.open()],
];

async function iccOf(heic: Buffer): Promise<Buffer | undefined> {
  return (await sharp(heic).metadata()).icc;
}

describe.each(decoders)('%s', (_, open) => {
  it.each(Object.entries(cameraHeics))(
    'decodes the %s photo upright, as heif-convert shows it, with its profile',
    async (_name, file) => {
      const decoder = await open();
      const heic = fixture(file);
      const icc = await iccOf(heic);
      const decoded = await decoder.decode(heic, { ...limits, icc });
      const reference = await decodedByHeifConvert(heic);
      expect(decoded).toMatchObject({ width: reference.width, height: reference.height });
      const read = await sharp(decoded.image).metadata();
      expect(read).toMatchObject({ width: reference.width, height: reference.height });
      expect(read.icc?.equals(icc ?? Buffer.alloc(0)) ?? icc === undefined).toBe(true);
      // The same picture, the same way up, the same colours once both are sRGB.
      expect(meanDifference(await thumbnailOf(decoded.image), reference.thumbnail)).toBeLessThan(2);
    },
  );

  it('refuses a 200 MP photo before decoding a pixel', async () => {
    const decoder = await open();
    const refusal = decoder.decode(fixture(twoHundredMegapixelHeic), {
      ...limits,
      timeoutMs: 3000,
    });
    if (decoder instanceof WasmHeifDecoder) {
      await expect(refusal).rejects.toMatchObject({
        code: 'too_many_pixels',
        message: expect.stringContaining('12240 x 16320') as unknown,
      });
    } else {
      // libvips' header reader refuses its 822 items, and Debian's libheif 1.15 tools spend
      // 12 s of CPU parsing them: the time limit ends it. The upload path never gets here:
      // the container walk refuses the photo from its `ispe` first (__tests__/http/heic).
      await expect(refusal).rejects.toMatchObject({ code: 'undecodable_image' });
    }
  });

  it('fails a photo whose HEVC data is broken, and decodes the next one', async () => {
    const decoder = await open();
    const broken = withBrokenHevcData(fixture(cameraHeics.android));
    await expect(decoder.decode(broken, limits)).rejects.toMatchObject({
      code: 'undecodable_image',
    });
    await expect(decoder.decode(fixture(cameraHeics.android), limits)).resolves.toMatchObject({
      width: 2592,
      height: 1944,
    });
  });

  it('gives up at the time limit, and decodes the next one', async () => {
    const decoder = await open();
    await expect(
      decoder.decode(fixture(cameraHeics.android), { ...limits, timeoutMs: 1 }),
    ).rejects.toMatchObject({
      code: 'undecodable_image',
      message: 'The image is not valid: it took too long to decode.',
    });
    await expect(decoder.decode(fixture(cameraHeics.android), limits)).resolves.toMatchObject({
      width: 2592,
    });
  });

  it('refuses what is not HEIF at all', async () => {
    const decoder = await open();
    await expect(decoder.decode(fixture('photo.png'), limits)).rejects.toMatchObject({
      code: 'undecodable_image',
    });
  });
});

describe('a worker of the WebAssembly decoder that fails', () => {
  const worker = (name: string): URL =>
    new URL(`../../support/heif-workers/${name}.mjs`, import.meta.url);

  it.each([
    ['crashes', 'crash', 60_000],
    ['hangs', 'hang', 500],
    ['runs out of memory', 'oom', 60_000],
  ])('%s: fails that image only, with a clear error', async (_, name, timeoutMs) => {
    const decoder = wasm({ workerUrl: worker(name), heapLimitMb: 16 });
    const heic = fixture(cameraHeics.android);
    for (let attempt = 0; attempt < 2; attempt += 1) {
      // Each attempt gets a new worker: the pool replaced the one that failed.
      await expect(decoder.decode(heic, { ...limits, timeoutMs })).rejects.toMatchObject({
        code: 'undecodable_image',
        message: expect.stringMatching(
          /^The image is not valid: (the HEIF decoder failed on it|it took too long to decode)\.$/,
        ) as unknown,
      });
    }
  });
});

describe('the WebAssembly decoder, idle', () => {
  it('keeps nothing alive: its workers hold no ref-ed port once their image is decoded', async () => {
    // What keeps the event loop alive, by kind (a worker's ports show as MessagePort); jest
    // runs the suite in one process on a 2-core machine, so a ref-ed port there never ends.
    const ports = () =>
      process.getActiveResourcesInfo().filter((kind) => kind === 'MessagePort').length;
    const before = ports();
    const decoder = wasm({ workers: 2 });
    await Promise.all(
      [cameraHeics.android, cameraHeics.android].map((file) =>
        decoder.decode(fixture(file), limits),
      ),
    );
    expect(ports()).toBe(before);
  });
});
