import { createHash } from 'node:crypto';
import type { HeldImageBuffers } from './held-image-buffers.js';

export interface ImageFingerprint {
  readonly bytes: number;
  readonly sha256: string;
  /** Base64 MD5, computed only when asked for (it serves idempotent replays alone). */
  readonly md5: string | undefined;
}

/** The fingerprint of an image held whole; sha256 off the event loop where it can be. */
export async function fingerprintOf(
  image: Buffer,
  withMd5: boolean,
  buffers: HeldImageBuffers,
): Promise<ImageFingerprint> {
  return {
    bytes: image.length,
    sha256: await buffers.sha256(image),
    md5: withMd5 ? createHash('md5').update(image).digest('base64') : undefined,
  };
}

/** The fingerprint of an image that passes in chunks. */
export class StreamingFingerprint {
  private readonly sha256 = createHash('sha256');
  private readonly md5: ReturnType<typeof createHash> | undefined;
  private bytes = 0;
  private result: ImageFingerprint | undefined;

  constructor(withMd5: boolean) {
    this.md5 = withMd5 ? createHash('md5') : undefined;
  }

  update(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.sha256.update(chunk);
    this.md5?.update(chunk);
  }

  /** The fingerprint of everything passed so far; no more updates after it. */
  digest(): ImageFingerprint {
    this.result ??= {
      bytes: this.bytes,
      sha256: this.sha256.digest('hex'),
      md5: this.md5?.digest('base64'),
    };
    return this.result;
  }
}
