import { PerformanceObserver } from 'node:perf_hooks';
import sharp, { type Sharp } from 'sharp';
import { cameraJpeg, withPhoneMetadata } from './bodies.ts';

/**
 * Where the CPU of one eager upload's derivatives goes, stage by stage, for the `v` scenario's
 * picture (12 MP phone JPEG carrying phone-o6.jpg's EXIF orientation 6 and ICC profile) and
 * variants (WebP q80), with the placeholder. Each stage runs alone, one at a time, `--rounds`
 * times after one warm-up; CPU is this whole process's (every thread: libvips runs on libuv's
 * pool and threads of its own) and GC is the main thread's pause time. Prints the median CPU
 * ms per stage. `npm run build` first: the service's code is read from dist/.
 *
 *   node bench/eager-stages.ts [--rounds N]
 */

sharp.cache(false);
const roundsAt = process.argv.indexOf('--rounds');
const rounds = roundsAt === -1 ? 5 : Number(process.argv[roundsAt + 1]);
const image = withPhoneMetadata(
  await cameraJpeg({ width: 4000, height: 3000, quality: 88, noise: 24 }),
);
const dist = new URL('../dist/', import.meta.url);
const { makeDerivatives } = (await import(
  new URL('images/variants.js', dist).href
)) as typeof import('../src/images/variants.ts');
const { parseVariantSpecs } = (await import(
  new URL('images/variant-spec.js', dist).href
)) as typeof import('../src/images/variant-spec.ts');
const specs = parseVariantSpecs('thumbnail:320x320:cover,small:640,large:1600');

let gcMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
}).observe({ entryTypes: ['gc'] });

async function measure(run: () => Promise<unknown>): Promise<{ cpu: number; gc: number }> {
  await run();
  const samples: { cpu: number; gc: number }[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = process.cpuUsage();
    const gcBefore = gcMs;
    await run();
    await new Promise((resolve) => setImmediate(resolve)); // let the gc entries arrive
    const used = process.cpuUsage(start);
    samples.push({ cpu: (used.user + used.system) / 1000, gc: gcMs - gcBefore });
  }
  samples.sort((a, b) => a.cpu - b.cpu);
  return samples[Math.floor(samples.length / 2)]!;
}

const webp = (pipeline: Sharp): Promise<Buffer> => pipeline.webp({ quality: 80 }).toBuffer();
const raw = (pipeline: Sharp) => pipeline.raw().toBuffer({ resolveWithObject: true });
const rasterOf = (made: Awaited<ReturnType<typeof raw>>) => ({
  raw: { width: made.info.width, height: made.info.height, channels: made.info.channels },
});
// Upright, the picture is 3000 x 4000; the large variant is 1200 x 1600.
const upright1600 = await raw(sharp(image).autoOrient().resize(1600, 1600, { fit: 'inside' }));
const from1600 = (): Sharp => sharp(upright1600.data, rasterOf(upright1600));
const carrier = await sharp(image)
  .autoOrient()
  .keepIccProfile()
  .resize(1200, 1600, { fit: 'fill' })
  .tiff({ compression: 'none' })
  .toBuffer();
const peer = {
  large: () => webp(sharp(image).rotate().resize(1600, 1600, { fit: 'inside' })),
  small: () => webp(sharp(image).rotate().resize(640, 640, { fit: 'inside' })),
  thumbnail: () => webp(sharp(image).rotate().resize(320, 320, { fit: 'cover' })),
  placeholder: () => raw(sharp(image).rotate().resize(100, 100, { fit: 'inside' }).ensureAlpha()),
};

const stages: [string, () => Promise<unknown>][] = [
  ['header (metadata)', () => sharp(image).metadata()],
  ['decode 4000x3000, no ICC conversion (ignoreIcc)', () => raw(sharp(image, { ignoreIcc: true }))],
  ['decode 4000x3000, converted through the ICC profile', () => raw(sharp(image))],
  [
    'decode + reduce to 1200x1600, no ICC (sharp skips 1/2 shrink-on-load below 3x)',
    () => raw(sharp(image, { ignoreIcc: true }).autoOrient().resize(1200, 1600)),
  ],
  [
    'decode + ICC + reduce to 1200x1600 (what the large variant pipeline decodes)',
    () => raw(sharp(image).autoOrient().resize(1200, 1600)),
  ],
  ['decode at 1/4 + ICC, reduce to 480x640', () => raw(sharp(image).autoOrient().resize(480, 640))],
  [
    'decode at 1/8 + ICC, reduce to 320x320 cover',
    () => raw(sharp(image).autoOrient().resize(320, 320, { fit: 'cover' })),
  ],
  ['peer: large 1600 (decode + ICC + resize + WebP)', peer.large],
  ['peer: small 640', peer.small],
  ['peer: thumbnail 320 cover', peer.thumbnail],
  ['peer: placeholder raster', peer.placeholder],
  ['peer: all four at once', () => Promise.all(Object.values(peer).map((run) => run()))],
  [
    'decode once, pass 1: decode + reduce, profile kept, uncompressed TIFF',
    () =>
      sharp(image, { failOn: 'warning' })
        .autoOrient()
        .keepIccProfile()
        .resize(1200, 1600, { fit: 'fill' })
        .tiff({ compression: 'none' })
        .toBuffer(),
  ],
  ['decode once, pass 2: TIFF → sRGB raster (ICC on 1.9 MP)', () => raw(sharp(carrier))],
  ['encode only: WebP 1200x1600 from the raster', () => webp(from1600())],
  [
    'resize + encode: WebP 480x640 from the raster',
    () => webp(from1600().resize(640, 640, { fit: 'inside' })),
  ],
  [
    'resize + encode: WebP 320x320 cover from the raster',
    () => webp(from1600().resize(320, 320, { fit: 'cover' })),
  ],
  [
    'placeholder raster from the raster',
    () => raw(from1600().resize(100, 100, { fit: 'inside' }).ensureAlpha()),
  ],
  [
    'image-ingest: makeDerivatives (3 variants + placeholder)',
    () =>
      makeDerivatives(image, 'image/jpeg', specs, {
        maxPixels: 100_000_000,
        timeoutSeconds: 30,
        format: 'webp',
        placeholder: true,
      }),
  ],
];

console.log(
  `${(image.length / 2 ** 20).toFixed(2)} MiB JPEG; median of ${rounds} runs; ` +
    `sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}, concurrency ${sharp.concurrency()}`,
);
console.log('  CPU ms  GC ms  stage');
for (const [name, run] of stages) {
  const { cpu, gc } = await measure(run);
  console.log(`${cpu.toFixed(1).padStart(8)} ${gc.toFixed(1).padStart(6)}  ${name}`);
}
