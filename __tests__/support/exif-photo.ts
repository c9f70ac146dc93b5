import sharp from 'sharp';

/**
 * A JPEG of noise (it does not compress: `width` x `height` make its size) carrying an EXIF
 * block with a camera, an owner long enough that the segment passes the sniff sample, and
 * orientation 6: what stripping must take out, and keep.
 */
export function photoWithExif(width: number, height: number): Promise<Buffer> {
  return sharp({
    create: {
      width,
      height,
      channels: 3,
      background: '#808080',
      noise: { type: 'gaussian', mean: 128, sigma: 50 },
    },
  })
    .withExif({
      IFD0: { Make: 'PhoneMaker', Model: 'Phone 12', Copyright: 'Ann Owner '.repeat(900) },
    })
    .withMetadata({ orientation: 6 })
    .jpeg({ quality: 92 })
    .toBuffer();
}
