import { describe, expect, it } from '@jest/globals';
import { createHash, createVerify } from 'node:crypto';
import { loadConfig } from '../../src/config.js';
import { GcsByteArea, signedPutTarget } from '../../src/storage/staging/gcs-byte-area.js';
import type { DirectUploadRecord } from '../../src/uploads/direct-upload-record.js';
import { newSigningAccount, signingClient } from '../support/signing.js';

/**
 * The V4 signed PUT URL of a direct upload, taken apart. fake-gcs-server does not check
 * signatures, so this is where they are checked: parameters, signed headers, the object's
 * place under the staging prefix, and the signature itself against the canonical request,
 * with the public key of the account that signed.
 */

const account = newSigningAccount();
// GCS's own host: signing is local, nothing is sent.
const bucket = signingClient(account, null).bucket('image-ingest-test');
const config = loadConfig({ STAGING_PREFIX: 'incoming-staging/' });
const bytes = new GcsByteArea(bucket, `${config.staging.prefix}direct/`);

function recordOf(overrides: Partial<DirectUploadRecord> = {}): DirectUploadRecord {
  const created = Math.floor(Date.now() / 1000) * 1000;
  const expires = config.staging.directExpiresSeconds * 1000;
  return {
    id: '3b0c5a0e-8a4f-4b7e-9d51-6f2a1c9e0b11',
    owner: null,
    size: 1598,
    method: 'put',
    declaredType: 'image/jpeg',
    nonce: 'n',
    createdAt: new Date(created).toISOString(),
    expiresAt: new Date(created + expires).toISOString(),
    completeBy: new Date(created + 2 * expires).toISOString(),
    ...overrides,
  };
}

/** RFC 3986 encoding, as V4 signing has it. */
function encode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Rebuilds the canonical request of a signed URL from the headers a client will send. */
function canonicalRequest(url: URL, headers: Record<string, string>): string {
  const query = [...url.searchParams]
    .filter(([key]) => key !== 'X-Goog-Signature')
    .map(([key, value]) => `${encode(key)}=${encode(value)}`)
    .sort()
    .join('&');
  const signed = url.searchParams.get('X-Goog-SignedHeaders')!.split(';');
  const lower = Object.fromEntries(
    Object.entries({ host: url.hostname, ...headers }).map(([k, v]) => [k.toLowerCase(), v]),
  );
  const canonicalHeaders = signed.map((name) => `${name}:${lower[name]!.trim()}\n`).join('');
  return ['PUT', url.pathname, query, canonicalHeaders, signed.join(';'), 'UNSIGNED-PAYLOAD'].join(
    '\n',
  );
}

function signatureIsValid(url: URL, headers: Record<string, string>): boolean {
  const credential = url.searchParams.get('X-Goog-Credential')!;
  const scope = credential.slice(credential.indexOf('/') + 1);
  const stringToSign = [
    url.searchParams.get('X-Goog-Algorithm'),
    url.searchParams.get('X-Goog-Date'),
    scope,
    createHash('sha256').update(canonicalRequest(url, headers)).digest('hex'),
  ].join('\n');
  return createVerify('RSA-SHA256')
    .update(stringToSign)
    .verify(account.publicKey, Buffer.from(url.searchParams.get('X-Goog-Signature')!, 'hex'));
}

describe('the signed PUT URL of a direct upload', () => {
  it('signs a PUT of the staged object for the configured expiry, with its headers', async () => {
    const record = recordOf();
    const target = await signedPutTarget(bytes.objectFile(record.id), record);
    const url = new URL(target.url);
    expect(url.origin).toBe('https://storage.googleapis.com');
    expect(decodeURIComponent(url.pathname)).toBe(
      `/image-ingest-test/incoming-staging/direct/${record.id}/data`,
    );
    expect(url.searchParams.get('X-Goog-Algorithm')).toBe('GOOG4-RSA-SHA256');
    expect(url.searchParams.get('X-Goog-Expires')).toBe(
      String(config.staging.directExpiresSeconds),
    );
    expect(url.searchParams.get('X-Goog-Expires')).toBe('600');
    expect(url.searchParams.get('X-Goog-Credential')).toMatch(
      new RegExp(`^${account.clientEmail}/\\d{8}/auto/storage/goog4_request$`),
    );
    const date = url.searchParams.get('X-Goog-Date')!;
    expect(date).toBe(record.createdAt.replace(/[-:]/g, '').replace(/\.\d{3}/, ''));
    expect(url.searchParams.get('X-Goog-SignedHeaders')).toBe(
      'content-disposition;content-type;host;x-goog-content-length-range',
    );
    // Whatever the client said: a staged object is a download, never a page a browser runs.
    expect(target.headers).toEqual({
      'Content-Type': 'application/octet-stream',
      'Content-Disposition': 'attachment',
      'x-goog-content-length-range': '1598,1598',
    });
    expect(signatureIsValid(url, target.headers)).toBe(true);
  });

  it('fails verification when anything signed is changed', async () => {
    const record = recordOf();
    const target = await signedPutTarget(bytes.objectFile(record.id), record);
    const url = new URL(target.url);
    // Another size, type, object or expiry than the one signed.
    expect(
      signatureIsValid(url, { ...target.headers, 'x-goog-content-length-range': '0,99999999' }),
    ).toBe(false);
    expect(signatureIsValid(url, { ...target.headers, 'Content-Type': 'image/svg+xml' })).toBe(
      false,
    );
    expect(signatureIsValid(url, { ...target.headers, 'Content-Disposition': 'inline' })).toBe(
      false,
    );
    const otherObject = new URL(url);
    otherObject.pathname = '/image-ingest-test/3b0c5a0e-8a4f-4b7e-9d51-6f2a1c9e0b11.jpg';
    expect(signatureIsValid(otherObject, target.headers)).toBe(false);
    const longer = new URL(url);
    longer.searchParams.set('X-Goog-Expires', '604800');
    expect(signatureIsValid(longer, target.headers)).toBe(false);
  });

  it('labels an SVG hint as a download too', async () => {
    const record = recordOf({ declaredType: 'image/svg+xml' });
    const target = await signedPutTarget(bytes.objectFile(record.id), record);
    expect(target.headers['Content-Type']).toBe('application/octet-stream');
    expect(signatureIsValid(new URL(target.url), target.headers)).toBe(true);
  });

  it('follows DIRECT_UPLOAD_EXPIRES_SECONDS', async () => {
    const short = loadConfig({ DIRECT_UPLOAD_EXPIRES_SECONDS: '90' }).staging.directExpiresSeconds;
    const created = Math.floor(Date.now() / 1000) * 1000;
    const record = recordOf({
      createdAt: new Date(created).toISOString(),
      expiresAt: new Date(created + short * 1000).toISOString(),
    });
    const target = await signedPutTarget(bytes.objectFile(record.id), record);
    expect(new URL(target.url).searchParams.get('X-Goog-Expires')).toBe('90');
  });
});
