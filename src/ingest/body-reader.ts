import type { ContainerWalker } from '../images/formats/index.js';
import type { HeldImageBuffers } from './held-image-buffers.js';
import type { ImageBytes } from './image-bytes.js';
import type { ImageSource } from './image-source.js';
import { StreamingFingerprint, fingerprintOf, type ImageFingerprint } from './fingerprint.js';

/**
 * Reads an image source into its bytes, once. While the image is held, its bytes stay in one
 * buffer; once streaming starts, every chunk is fingerprinted as it is taken, so the hash is
 * complete whoever reads the body to its end: the store's stream or an idempotent replay.
 *
 * With a walk of the image's format (`walkWith`), every byte passes through it once: it checks
 * the structure and reads the facts, and what it hands on is the image as it will be stored
 * (stripped of its metadata, or as it came): the held image is replaced by that, and streamed
 * chunks pass through it before they are fingerprinted. So the hash is always that of the
 * stored bytes.
 */
export class BodyReader {
  private finished = false;
  private streaming = false;
  /** Made at the first fingerprinted chunk, so `alsoMd5` can still change it before. */
  private fingerprint: StreamingFingerprint | undefined;
  private withMd5 = false;
  private walk: ContainerWalker | undefined;
  private walkEnded = false;

  constructor(
    private readonly source: ImageSource,
    readonly image: ImageBytes,
    private readonly buffers: HeldImageBuffers,
  ) {}

  /**
   * The fingerprint also carries an MD5: for an idempotent replay whose earlier object has no
   * sha256 to compare. Only before anything was fingerprinted, which is when that is known.
   */
  alsoMd5(): void {
    if (this.fingerprint !== undefined) throw new Error('the fingerprint has already started');
    this.withMd5 = true;
  }

  /** True once the body has ended, complete and well-formed. */
  get ended(): boolean {
    return this.finished;
  }

  /** Reads until `bytes` image bytes are held or the body ends. */
  async readUpTo(bytes: number): Promise<void> {
    while (this.image.bytes < bytes && (await this.readMore()));
  }

  /**
   * From here on, the image is what `walk` makes of it. Set once, as soon as the type is known
   * and before anything is streamed; a body that has already ended is walked at once.
   */
  walkWith(walk: ContainerWalker): void {
    this.walk = walk;
    if (this.finished && !this.streaming) {
      this.image.replaceHeld([...walk.write(this.image.heldImage()), ...walk.end()]);
      this.walkEnded = true;
    }
  }

  /** Switches to streaming; returns the bytes held until now, fingerprinted. */
  startStreaming(): Buffer[] {
    this.streaming = true;
    return this.take(this.walked([this.image.stopHolding()]));
  }

  /** While streaming: the next chunks of the image, fingerprinted; undefined at its end. */
  async nextChunks(): Promise<Buffer[] | undefined> {
    const more = await this.readMore();
    const chunks = this.walked(this.image.takeChunks());
    if (!more && this.walk !== undefined && !this.walkEnded) {
      this.walkEnded = true;
      chunks.push(...this.walk.end());
    }
    this.take(chunks);
    return more || chunks.length > 0 ? chunks : undefined;
  }

  /** Reads whatever is left (without keeping it) for the fingerprint of the whole image. */
  async readToEnd(): Promise<ImageFingerprint> {
    if (!this.streaming && this.finished) {
      return fingerprintOf(this.image.heldImage(), this.withMd5, this.buffers);
    }
    if (!this.streaming) this.startStreaming();
    while ((await this.nextChunks()) !== undefined);
    return this.streamFingerprint().digest();
  }

  /** The fingerprint of a streamed image, once it has been read to its end. */
  streamedFingerprint(): ImageFingerprint {
    return this.streamFingerprint().digest();
  }

  private async readMore(): Promise<boolean> {
    if (this.finished) return false;
    const more = await this.source.readMore(this.image);
    if (!more) this.finished = true;
    return more;
  }

  private walked(chunks: Buffer[]): Buffer[] {
    const walk = this.walk;
    if (walk === undefined) return chunks;
    return chunks.flatMap((chunk) => walk.write(chunk)).filter((part) => part.length > 0);
  }

  private take(chunks: Buffer[]): Buffer[] {
    const fingerprint = this.streamFingerprint();
    for (const chunk of chunks) fingerprint.update(chunk);
    return chunks;
  }

  private streamFingerprint(): StreamingFingerprint {
    this.fingerprint ??= new StreamingFingerprint(this.withMd5);
    return this.fingerprint;
  }
}
