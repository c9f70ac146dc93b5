import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { ContainerWalker } from '../../../src/images/formats/index.js';
import { exiftool, identifyingTag } from '../../support/image-facts.js';

/**
 * The HEIC grammar against libheif itself (Debian's libheif-examples: heif-convert decodes with
 * libde265 and applies `clap`, `irot` and `imir`, as a browser that shows HEIC would), and the
 * stripped files against exiftool.
 */

const run = promisify(execFile);
const heic = (name: string): Buffer => readFileSync(`__tests__/fixtures/heic/${name}`);

/** libheif's decode of `image`, as displayed: its size and RGBA pixels. */
async function decodedByLibheif(
  image: Buffer,
): Promise<{ width: number; height: number; pixels: Buffer }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'heif-convert-'));
  try {
    await writeFile(path.join(dir, 'in.heic'), image);
    await run('heif-convert', [path.join(dir, 'in.heic'), path.join(dir, 'out.png')]);
    const { data, info } = await sharp(path.join(dir, 'out.png'))
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, pixels: data };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function walk(
  image: Buffer,
  strip: boolean,
): { facts: ReturnType<ContainerWalker['facts']>; output: Buffer } {
  const walker = new ContainerWalker('image/heic', 100_000_000, { strip });
  const output = Buffer.concat([...walker.write(image), ...walker.end()]);
  return { facts: walker.facts(), output };
}

const fixtures = [
  'made-irot-imir-clap-gps.heic',
  'made-grid-irot-thumbnail-gps.heic',
  'made-grid-mdat-first.heic',
  'made-heif-enc-phone.heic',
  'made-heif-enc-alpha-thumbnail.heic',
];

describe.each(fixtures)('%s against libheif', (name) => {
  const input = heic(name);

  it('has the displayed size libheif decodes it to', async () => {
    const decoded = await decodedByLibheif(input);
    expect(walk(input, false).facts).toMatchObject({
      width: decoded.width,
      height: decoded.height,
      orientation: 1,
    });
  });

  it('decodes to the same pixels once stripped, and exiftool finds nothing identifying', async () => {
    const { output } = walk(input, true);
    const [before, after] = await Promise.all([decodedByLibheif(input), decodedByLibheif(output)]);
    expect(after.width).toBe(before.width);
    expect(after.height).toBe(before.height);
    expect(after.pixels.equals(before.pixels)).toBe(true);
    const tags = await exiftool(output, 'heic');
    const left = Object.keys(tags).filter(
      (key) => identifyingTag.test(key) && !key.startsWith('ICC_Profile:'),
    );
    expect(left).toEqual([]);
  });
});

describe('exiftool before stripping', () => {
  it('finds GPS, serial and owner tags in the fixtures that carry them', async () => {
    const tags = await exiftool(heic('made-grid-irot-thumbnail-gps.heic'), 'heic');
    const keys = Object.keys(tags).join(' ');
    expect(keys).toMatch(/GPSLatitude/);
    expect(keys).toMatch(/SerialNumber/);
    expect(keys).toMatch(/OwnerName/);
  });
});
