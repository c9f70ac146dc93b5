import { describe, expect, it } from '@jest/globals';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Semaphore } from '../../src/images/semaphore.js';
import { renditionPath, signRendition } from '../../src/renditions/rendition-signing.js';
import { Renditions } from '../../src/renditions/renditions.js';
import { LocalStore } from '../../src/storage/local-store.js';

const id = '0b6f6c1e-5d0e-4e43-9b64-5c2a8d0f4f4e';
const key = 'a-rendition-signing-key-of-32-bytes-at-least';

/** prepare() reads only the URL: the store is never touched here. */
async function renditions(): Promise<Renditions> {
  return new Renditions({
    store: new LocalStore(await mkdtemp(path.join(tmpdir(), 'renditions-')), 'http://x'),
    allowedTypes: ['image/jpeg'],
    presets: [],
    presetFormat: 'webp',
    presetQuality: 80,
    signingKeys: [key],
    maxPixels: 40_000_000,
    maxInputPixels: 100_000_000,
    decodeTimeoutSeconds: 10,
    limit: new Semaphore(1),
  });
}

function query(params: Record<string, string>, sig?: string): string {
  const signed = new URLSearchParams(Object.entries(params));
  signed.set('sig', sig ?? signRendition(renditionPath(id), new Map(Object.entries(params)), key));
  return signed.toString();
}

describe('Renditions.prepare', () => {
  it('keeps what a URL was found to be, and still refuses a forged one', async () => {
    const subject = await renditions();
    const good = query({ w: '640', format: 'webp' });
    const first = subject.prepare(id, good, undefined);
    // The same answer, not checked again.
    expect(subject.prepare(id, good, undefined)).toBe(first);
    const forged = query({ w: '640', format: 'webp' }, 'A'.repeat(43));
    for (let i = 0; i < 2; i++) {
      expect(() => subject.prepare(id, forged, undefined)).toThrow(
        expect.objectContaining({ code: 'invalid_render_signature' }),
      );
    }
    // The same signature on another image's URL.
    expect(() => subject.prepare(id.replace('4e', '4f'), good, undefined)).toThrow(
      expect.objectContaining({ code: 'invalid_render_signature' }),
    );
  });

  it('answers format=auto by each Accept, not by the first one seen', async () => {
    const subject = await renditions();
    const auto = query({ w: '640', format: 'auto' });
    const avif = subject.prepare(id, auto, 'image/avif,image/webp,*/*');
    const jpeg = subject.prepare(id, auto, 'image/*');
    expect([avif.contentType, jpeg.contentType]).toEqual(['image/avif', 'image/jpeg']);
    expect(subject.prepare(id, auto, 'image/avif,image/webp,*/*')).toBe(avif);
    const long = `image/webp,${'x'.repeat(600)}`;
    expect(subject.prepare(id, auto, long).contentType).toBe('image/webp');
  });
});
