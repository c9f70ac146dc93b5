import { Readable } from 'node:stream';
import type { BodyReader } from './body-reader.js';
import type { ImageFacts } from '../images/formats/index.js';
import type { ImageValidator, KeptImage } from './validate-image.js';

/**
 * Runs once the whole image is proven and before the stream ends, so before the store commits
 * the object: what it throws fails the stream (and so the write) like a refused chunk.
 */
export type BeforeStreamEnds = (image: KeptImage) => Promise<void>;

/**
 * The store's stream of an image too large to hold: the bytes already held first, then the
 * rest as the client sends it. Each chunk is validated before the store sees it, and the
 * stream ends only once the whole image has been validated: a store commits an object only
 * when its stream ends cleanly, so an invalid image is never published (the write fails and
 * the driver discards it).
 */
export class ValidatedStream {
  readonly readable: Readable;
  /**
   * What the body or the validator threw (a refused image, its spool file failing): that is
   * what the client is told, rather than the store's reaction to its stream breaking off.
   */
  bodyFailure: Error | undefined;
  /** The image's facts, once the whole image has been validated. */
  facts: ImageFacts | undefined;
  /** True while the store has a chunk: an error thrown into the generator there is the store's. */
  private yielding = false;
  /** Set once the store's write has settled: nothing more is read for a write that is over. */
  private storeDone = false;
  private started = false;
  private settle: (failure: Error | undefined) => void = () => undefined;
  private readonly settled = new Promise<Error | undefined>((resolve) => {
    this.settle = resolve;
  });

  constructor(
    private readonly body: BodyReader,
    private readonly validator: ImageValidator,
    /** Given, the validator keeps its copy for it (`finishKeeping`); the caller disposes. */
    private readonly beforeEnd?: BeforeStreamEnds,
  ) {
    this.readable = Readable.from(this.chunks(), { objectMode: false });
  }

  /** The store's write has settled, however it ended. */
  storeFinished(): void {
    this.storeDone = true;
  }

  /**
   * The store gave up on the stream: ends it, and waits until its reader has stopped, so that
   * another reader (a replay) may go on with the body. Resolves to the body's own failure.
   */
  async stop(): Promise<Error | undefined> {
    this.readable.destroy();
    // A generator the store never started will not run (nor its finally): nothing to wait for.
    if (!this.started) this.settle(undefined);
    return this.settled;
  }

  private async *chunks(): AsyncGenerator<Buffer> {
    this.started = true;
    try {
      if (this.storeDone) return;
      yield* this.validated(this.body.startStreaming());
      for (;;) {
        if (this.storeDone) return;
        const chunks = await this.body.nextChunks();
        if (chunks === undefined) break;
        if (this.storeDone) return;
        yield* this.validated(chunks);
      }
      if (this.storeDone) return;
      if (this.beforeEnd === undefined) {
        this.facts = await this.validator.finish();
      } else {
        const kept = await this.validator.finishKeeping();
        // Not a yield: an error here is the body's, the store has no chunk in hand.
        if (this.storeDone) return;
        await this.beforeEnd(kept);
        this.facts = kept.facts;
      }
    } catch (error) {
      if (!this.yielding)
        this.bodyFailure = error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      this.settle(this.bodyFailure);
    }
  }

  private async *validated(chunks: Buffer[]): AsyncGenerator<Buffer> {
    for (const chunk of chunks) {
      // Awaited: in decode mode the chunk is on disk before the next one is read.
      await this.validator.write(chunk);
      this.yielding = true;
      yield chunk;
      this.yielding = false;
    }
  }
}
