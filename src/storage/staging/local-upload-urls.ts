import { createHmac, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import { keptSecret } from '../../files.js';
import type { TargetRequest, UploadMethod } from './byte-area.js';

/** The fields of a local upload URL that its signature covers. */
export interface SignedUploadUrl {
  readonly id: string;
  readonly method: UploadMethod;
  /** Unix seconds. */
  readonly expires: number;
  readonly size: number;
}

/** The path of the local driver's upload URLs; the route that takes their PUTs matches it. */
export function localUploadPath(id: string): string {
  return `/v1/uploads/direct/${id}`;
}

/**
 * The local driver's upload URLs point at the service itself, signed with an HMAC over id,
 * method, expiry and size, so a client's code is the same as against GCS's signed URLs; the
 * signature is the credential, as there.
 */
export class UploadUrlSigner {
  private constructor(private readonly secret: Buffer) {}

  /**
   * DIRECT_UPLOAD_SECRET, or when unset one kept in the staging folder (made once), which
   * instances sharing this disk then all read.
   */
  static async open(stagingRoot: string, secret?: string): Promise<UploadUrlSigner> {
    const kept = secret ?? (await keptSecret(path.join(stagingRoot, 'direct-upload-secret')));
    return new UploadUrlSigner(Buffer.from(kept, 'utf8'));
  }

  sign(url: SignedUploadUrl): string {
    return createHmac('sha256', this.secret)
      .update(`${url.id}\n${url.method}\n${url.expires}\n${url.size}`)
      .digest('hex');
  }

  /** Whether `signature` is this service's for these fields (constant time). */
  verify(url: SignedUploadUrl, signature: string): boolean {
    const expected = Buffer.from(this.sign(url), 'hex');
    const presented = Buffer.from(/^[0-9a-f]{64}$/.test(signature) ? signature : '', 'hex');
    return presented.length === expected.length && timingSafeEqual(presented, expected);
  }

  /** The signed URL, on `serviceOrigin`, that takes the bytes of the upload `request` names. */
  urlFor(request: TargetRequest, serviceOrigin: string): string {
    const fields: SignedUploadUrl = {
      id: request.id,
      method: request.method,
      expires: Math.floor(Date.parse(request.expiresAt) / 1000),
      size: request.size,
    };
    const query = new URLSearchParams({
      method: fields.method,
      expires: String(fields.expires),
      size: String(fields.size),
      signature: this.sign(fields),
    });
    return `${serviceOrigin}${localUploadPath(request.id)}?${query.toString()}`;
  }
}
