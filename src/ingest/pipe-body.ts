import { finished, type Readable, type Writable } from 'node:stream';

/**
 * Pipes a request body into `into` (a limit, a checksum) so that `into` ends with the body or
 * fails when the body is cut, whenever that happened, before this call included. A route
 * reaches its body only after awaiting the store (the upload's record), and a client that sent
 * its body and closed meanwhile has a request that is destroyed already: a plain pipe() from
 * it never ends `into`, and whatever reads `into` (a staged file's writer, which holds the file
 * open, in a request that holds an upload slot) waits for ever.
 *
 * Not pipeline(): a refused body must stay open so that its answer can still be sent (the
 * error middleware drains it). `into`'s own failure (a limit passed) may come before its
 * reader is attached, after an await: it is kept as the stream's state, which every reader
 * (pipeline, for await, finished) is given when it starts, rather than thrown as an
 * unhandled 'error' event that ends the process.
 */
export function pipeBody<T extends Writable & Readable>(body: Readable, into: T): T {
  // Attached when the stream is made: see above.
  into.on('error', () => undefined);
  finished(body, { writable: false }, (error) => {
    if (error !== undefined && error !== null) into.destroy(error);
  });
  return body.pipe(into);
}
