import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { AppError } from '../errors.js';

/** tus checksum extension: the algorithms offered in Tus-Checksum-Algorithm (sha1 is required). */
export const checksumAlgorithms = ['sha1', 'sha256', 'md5'] as const;
export type ChecksumAlgorithm = (typeof checksumAlgorithms)[number];

export interface UploadChecksum {
  readonly algorithm: ChecksumAlgorithm;
  readonly digest: Buffer;
}

const digestBytes: Record<ChecksumAlgorithm, number> = { sha1: 20, sha256: 32, md5: 16 };

/** `Upload-Checksum: <algorithm> <base64>`; undefined when absent. */
export function parseUploadChecksum(header: string | undefined): UploadChecksum | undefined {
  if (header === undefined || header === '') return undefined;
  const match = /^([a-z0-9-]+) ([A-Za-z0-9+/]+={0,2})$/.exec(header.trim());
  const algorithm = match?.[1] as ChecksumAlgorithm | undefined;
  if (match === null || algorithm === undefined || !checksumAlgorithms.includes(algorithm)) {
    throw new AppError('invalid_upload_checksum');
  }
  const digest = Buffer.from(match[2] ?? '', 'base64');
  if (digest.length !== digestBytes[algorithm]) throw new AppError('invalid_upload_checksum');
  return { algorithm, digest };
}

/**
 * Passes a chunk's bytes on while hashing them; `ended` says whether the body reached its end
 * (a cut body cannot be checked, so its piece is not kept).
 */
export class ChecksumPassThrough extends Transform {
  ended = false;
  private readonly hash: Hash | undefined;

  constructor(private readonly expected: UploadChecksum | undefined) {
    super();
    this.hash = expected === undefined ? undefined : createHash(expected.algorithm);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash?.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.ended = true;
    callback();
  }

  /** Whether the whole body arrived and matches its checksum (true when none was sent). */
  matches(): boolean {
    if (this.hash === undefined || this.expected === undefined) return true;
    return this.ended && this.hash.digest().equals(this.expected.digest);
  }
}
