import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import { version as uuidVersion, validate as isUuid } from 'uuid';
import type { Config } from '../config.js';
import { keptSecret } from '../files.js';
import type { ImageRecord } from './image-record.js';

/**
 * Who may delete an image, decided from what the image itself keeps, without the service
 * remembering anything and without publishing anything: a stored object's custom metadata is
 * served with it (GCS sends it as `X-Goog-Meta-*` headers to anyone who fetches the image).
 *
 * - An image keeps `uploader`, an HMAC under UPLOADER_SECRET of its id and its uploader (the
 *   authenticated caller, or nobody for an anonymous upload). Bound to the id, it tells no
 *   one who uploaded it, nor whether two images have the same uploader, nor whether the
 *   service ran open.
 * - An anonymous uploader's delete token is an HMAC under the same secret of the image's id:
 *   nobody without the secret can compute it (before, it was an HMAC keyed by the
 *   Idempotency-Key, which anyone who knew the key could compute), and a replay of the same
 *   idempotent upload hands back the same token without the service storing it.
 */
export class UploaderKeys {
  private secret: Promise<Buffer> | undefined;

  /** `secret`, or how to get it (a file read on first use, so that making an app opens nothing). */
  constructor(private readonly source: Buffer | (() => Promise<Buffer>)) {}

  /** Resolves once the secret is at hand; start-up awaits it so that a bad folder stops it. */
  async ready(): Promise<void> {
    await this.key();
  }

  /** The delete token of an anonymous upload of image `id`. */
  async deleteToken(id: string): Promise<string> {
    return (await this.mac(`delete-token\n${id}`)).toString('base64url');
  }

  /** What image `id` keeps of its uploader (`owner` as ownerOf gives it; undefined: anonymous). */
  async uploaderOf(id: string, owner: string | undefined): Promise<string> {
    return (await this.mac(`uploader\n${id}\n${owner ?? ''}`)).toString('hex');
  }

  /**
   * Whether this caller may delete the image: its authenticated uploader, or, for an
   * anonymous upload, whoever holds its delete token. Records stored before `uploader` was
   * kept are judged by what they kept then (legacyMayDelete).
   */
  async mayDelete(record: ImageRecord, owner: string | undefined, token: string): Promise<boolean> {
    if (record.uploader === undefined) return this.legacyMayDelete(record, owner, token);
    if (owner !== undefined && sameText(record.uploader, await this.uploaderOf(record.id, owner))) {
      return true;
    }
    return (
      token !== '' &&
      sameText(record.uploader, await this.uploaderOf(record.id, undefined)) &&
      sameText(token, await this.deleteToken(record.id))
    );
  }

  /**
   * Images stored before UPLOADER_SECRET kept `owner` in clear and `deleteTokenSha256`. The
   * owner still deletes as itself. A random token (an image whose id is a random UUID, v4)
   * still works: nobody could compute it. A token derived from an Idempotency-Key (an id
   * derived from the key, a UUID v5) no longer does, since anyone who knew the key could
   * compute it; sending the same upload again with the same key answers, as any replay does,
   * with the token of today's formula, which such an anonymous image takes.
   */
  private async legacyMayDelete(
    record: ImageRecord,
    owner: string | undefined,
    token: string,
  ): Promise<boolean> {
    const { legacyOwner, legacyDeleteTokenSha256 } = record;
    if (owner !== undefined && legacyOwner !== undefined && owner === legacyOwner) return true;
    if (token === '' || legacyDeleteTokenSha256 === undefined) return false;
    if (legacyOwner === undefined && sameText(token, await this.deleteToken(record.id))) {
      return true;
    }
    if (!isUuid(record.id) || uuidVersion(record.id) !== 4) return false;
    return sameText(legacyDeleteTokenSha256, createHash('sha256').update(token).digest('hex'));
  }

  private key(): Promise<Buffer> {
    const source = this.source;
    // A failed read is tried again by the next caller rather than remembered for ever.
    this.secret ??= Buffer.isBuffer(source)
      ? Promise.resolve(source)
      : source().catch((error: unknown) => {
          this.secret = undefined;
          throw error;
        });
    return this.secret;
  }

  private async mac(text: string): Promise<Buffer> {
    return createHmac('sha256', await this.key())
      .update(text, 'utf8')
      .digest();
  }
}

/** Constant-time equality of two strings (of equal length; unequal lengths are unequal). */
function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * One per process, for a GCS store outside production without UPLOADER_SECRET: tokens and
 * ownership then hold for this process's life only, and index.ts says so at start-up.
 */
let processKeys: UploaderKeys | undefined;
function processUploaderKeys(): UploaderKeys {
  processKeys ??= new UploaderKeys(randomBytes(32));
  return processKeys;
}

/** Where the local driver keeps a generated UPLOADER_SECRET: a folder LocalStore never serves. */
export function keptUploaderSecretFile(uploadDir: string): string {
  return path.join(uploadDir, '.secrets', 'uploader-secret');
}

/**
 * The keys of this configuration: UPLOADER_SECRET; else, on the local driver, one generated
 * and kept in UPLOAD_DIR (read on first use, so that making an app opens nothing), shared by
 * every instance on that disk as the direct-upload secret is; else this process's own.
 */
export function uploaderKeysFor(config: Config): UploaderKeys {
  if (config.uploaderSecret !== undefined) {
    return new UploaderKeys(Buffer.from(config.uploaderSecret, 'utf8'));
  }
  if (config.storage.driver === 'local') {
    const file = keptUploaderSecretFile(config.storage.uploadDir);
    return new UploaderKeys(async () => Buffer.from(await keptSecret(file), 'utf8'));
  }
  return processUploaderKeys();
}
