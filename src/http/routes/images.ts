import Router from '@koa/router';
import type { Context } from 'koa';
import type { IncomingMessage } from 'node:http';
import { AppError } from '../../errors.js';
import type { CallerState } from '../middleware/auth.js';
import type { Config } from '../../config.js';
import { ingestJsonImage } from '../../ingest/ingest-json-image.js';
import type { HeldImageBuffers } from '../../ingest/held-image-buffers.js';
import { parseIdempotencyKey } from '../../ingest/idempotency.js';
import type { ObjectStore } from '../../storage/object-store.js';

export interface ImagesRouteDeps {
  readonly config: Config;
  readonly store: ObjectStore;
  readonly heldImageBuffers: HeldImageBuffers;
}

/** Counts the body as it streams in, so a body without Content-Length is bounded too. */
async function* limitBody(request: IncomingMessage, maxBytes: number): AsyncGenerator<Buffer> {
  let received = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > maxBytes) throw bodyTooLarge(maxBytes);
    yield chunk;
  }
}

function bodyTooLarge(maxBytes: number): AppError {
  return new AppError('payload_too_large', {
    message: `The request body is larger than the allowed maximum of ${maxBytes} bytes.`,
  });
}

function isJsonMediaType(type: string): boolean {
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/** An AbortSignal that fires when the client goes away before the response is sent. */
function clientGoneSignal(ctx: Context): AbortSignal {
  const controller = new AbortController();
  ctx.res.once('close', () => {
    if (!ctx.res.writableFinished) controller.abort(new Error('client closed the connection'));
  });
  return controller.signal;
}

function callerScope(state: Partial<CallerState>): string {
  const caller = state.caller;
  return caller === undefined || caller.kind === 'anonymous' ? '' : `${caller.kind}:${caller.id}`;
}

export function imagesRouter({ config, store, heldImageBuffers }: ImagesRouteDeps): Router {
  const router = new Router();

  router.post('/v1/images', async (ctx) => {
    // Koa's request.type keeps the header's case and spaces; media types ignore both.
    const mediaType = ctx.request.type.trim().toLowerCase();
    if (!isJsonMediaType(mediaType)) throw new AppError('unsupported_media_type');
    const encoding = ctx.get('Content-Encoding').trim().toLowerCase();
    if (encoding !== '' && encoding !== 'identity') {
      throw new AppError('unsupported_media_type', {
        message: 'Compressed request bodies are not accepted; send the JSON uncompressed.',
      });
    }
    const declaredLength = ctx.request.length;
    if (declaredLength !== undefined && declaredLength > config.maxBodyBytes) {
      throw bodyTooLarge(config.maxBodyBytes);
    }

    const idempotencyKey = parseIdempotencyKey(ctx.get('Idempotency-Key') || undefined);
    const image = await ingestJsonImage(limitBody(ctx.req, config.maxBodyBytes), {
      store,
      heldImageBuffers,
      limits: config,
      signal: clientGoneSignal(ctx),
      validation: {
        mode: config.security.imageValidation,
        maxPixels: config.security.maxImagePixels,
        decodeTimeoutSeconds: config.security.decodeTimeoutSeconds,
        spoolDirectory: config.spoolDir,
      },
      idempotencyKey,
      declaredBodyBytes: declaredLength,
      // Keys are per caller, so two callers picking the same key never meet. Anonymous callers
      // share one scope: their address changes as a phone moves between networks.
      scope: callerScope(ctx.state),
    });

    ctx.status = 201;
    ctx.set('Location', image.url);
    ctx.body = image;
  });

  return router;
}
