/**
 * What uploadImage accepts, turned into one shape. Bytes and Blobs can be read again for a
 * retry; a stream is read once.
 */

/** The parts of a Node.js Readable the client uses: it is async iterable over its chunks. */
export interface NodeReadableLike extends AsyncIterable<unknown> {
  pipe(...args: never[]): unknown;
}

export type UploadInput = Blob | Uint8Array | ReadableStream<Uint8Array> | NodeReadableLike;

export interface ImageInput {
  readonly kind: 'bytes' | 'blob' | 'stream';
  /** Bytes to send, when known before reading (never for a stream). */
  readonly size: number | undefined;
  /** A label for the server, which decides the type from the bytes anyway. */
  readonly type: string;
  /** A file name hint for the form part (never becomes a stored name). */
  readonly name: string;
  /** Whether the body can be sent again after a failed attempt. */
  readonly replayable: boolean;
  /** The original value (tus-js-client takes Blobs and Buffers as they are). */
  readonly value: UploadInput;
  /** The bytes as a stream; for a stream input, only once. */
  open(): ReadableStream<Uint8Array>;
  /** All bytes as a Blob (a stream is read whole). */
  blob(): Promise<Blob>;
}

export function isNodeReadable(value: unknown): value is NodeReadableLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { pipe?: unknown }).pipe === 'function' &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  );
}

function isWebStream(value: unknown): value is ReadableStream<Uint8Array> {
  return typeof ReadableStream !== 'undefined' && value instanceof ReadableStream;
}

function toUint8Array(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return new TextEncoder().encode(chunk);
  throw new TypeError('the stream gave a chunk that is neither bytes nor text');
}

/** A web stream over a Node Readable, pulled as the request body is sent. */
function webStreamOf(readable: NodeReadableLike): ReadableStream<Uint8Array> {
  const iterator = readable[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next: IteratorResult<unknown> = await iterator.next();
      if (next.done === true) controller.close();
      else controller.enqueue(toUint8Array(next.value));
    },
    async cancel(reason) {
      await iterator.return?.(reason);
    },
  });
}

export function imageInputOf(value: UploadInput): ImageInput {
  if (typeof Blob !== 'undefined' && value instanceof Blob) {
    const name = 'name' in value && typeof value.name === 'string' ? value.name : 'image';
    return {
      kind: 'blob',
      size: value.size,
      type: value.type === '' ? 'application/octet-stream' : value.type,
      name,
      replayable: true,
      value,
      open: () => value.stream(),
      blob: () => Promise.resolve(value),
    };
  }
  if (value instanceof Uint8Array) {
    return {
      kind: 'bytes',
      size: value.byteLength,
      type: 'application/octet-stream',
      name: 'image',
      replayable: true,
      value,
      open: () => new Blob([value as Uint8Array<ArrayBuffer>]).stream(),
      blob: () => Promise.resolve(new Blob([value as Uint8Array<ArrayBuffer>])),
    };
  }
  if (isWebStream(value) || isNodeReadable(value)) {
    let opened = false;
    const open = (): ReadableStream<Uint8Array> => {
      if (opened) throw new TypeError('a stream input can be read only once');
      opened = true;
      return isWebStream(value) ? value : webStreamOf(value);
    };
    return {
      kind: 'stream',
      size: undefined,
      type: 'application/octet-stream',
      name: 'image',
      replayable: false,
      value,
      open,
      blob: () => new Response(open()).blob(),
    };
  }
  throw new TypeError(
    'uploadImage takes a File, Blob, Buffer/Uint8Array, web ReadableStream or Node.js Readable',
  );
}

/** Counts bytes as a stream is pulled: the request body's progress as the network takes it. */
export function countingStream(
  source: ReadableStream<Uint8Array>,
  onBytes: (sent: number) => void,
): ReadableStream<Uint8Array> {
  let sent = 0;
  const reader = source.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) {
        controller.close();
        return;
      }
      sent += value.byteLength;
      controller.enqueue(value);
      onBytes(sent);
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

/** Streams several pieces (strings and byte streams) one after another. */
export function concatStreams(
  parts: readonly (string | (() => ReadableStream<Uint8Array>))[],
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let index = 0;
  let current: ReadableStreamDefaultReader<Uint8Array> | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        if (current !== undefined) {
          const { done, value } = await current.read();
          if (!done) {
            controller.enqueue(value);
            return;
          }
          current = undefined;
        }
        const part = parts[index++];
        if (part === undefined) {
          controller.close();
          return;
        }
        if (typeof part === 'string') {
          controller.enqueue(encoder.encode(part));
          return;
        }
        current = part().getReader();
      }
    },
    cancel: (reason) => current?.cancel(reason),
  });
}

/** Base64 of a Blob's bytes, in pieces so no call gets a huge argument list. */
export async function base64Of(blob: Blob): Promise<string> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const pieces: string[] = [];
  const step = 0x8000;
  for (let offset = 0; offset < bytes.length; offset += step) {
    pieces.push(String.fromCharCode(...bytes.subarray(offset, offset + step)));
  }
  return btoa(pieces.join(''));
}
