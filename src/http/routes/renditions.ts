import type Router from '@koa/router';
import { createRouter } from '../router.js';
import { renditionPath } from '../../renditions/rendition-signing.js';
import type { Renditions } from '../../renditions/renditions.js';
import { ifNoneMatchHolds } from '../conditional-requests.js';
import {
  releaseWithConnection,
  storedImageHeaders,
  takeServingPlace,
  type ServingLimits,
} from '../serve-stored-object.js';
import { clientGoneSignal } from './images.js';

/**
 * GET /v1/images/{id}/render: a rendition, served like a stored file. Authorised by its
 * signature, not by the caller (an <img> sends no Authorization): guardApi lets it through.
 */
export function renditionsRouter(renditions: Renditions, limits: ServingLimits): Router {
  const router = createRouter();

  router.get(renditionPath(':id'), async (ctx) => {
    const accept = ctx.get('Accept');
    const rendition = renditions.prepare(ctx.params.id ?? '', ctx.querystring, accept || undefined);
    const signal = clientGoneSignal(ctx);
    ctx.set({
      'Content-Type': rendition.contentType,
      ...storedImageHeaders,
      ETag: rendition.etag,
      'Cross-Origin-Resource-Policy': 'cross-origin',
    });
    // Appended: CORS may already vary by Origin.
    if (rendition.variesByAccept) ctx.vary('Accept');
    if (
      ifNoneMatchHolds(ctx.get('If-None-Match'), rendition.etag) &&
      (await renditions.isStored(rendition, signal))
    ) {
      ctx.status = 304;
      return;
    }
    // A stored rendition is a stream held open for the length of the answer: taken only once
    // this response owns its connection, as served originals are (src/http/response-socket.ts).
    const { socket, leave } = await takeServingPlace(ctx, limits);
    let found: Awaited<ReturnType<Renditions['open']>>;
    try {
      found = await renditions.open(rendition, signal);
    } catch (error) {
      leave();
      throw error;
    }
    if (found.kind === 'stored') {
      found.body.once('close', leave);
      releaseWithConnection(socket, found.body, limits);
      ctx.set('Content-Length', String(found.size));
      ctx.body = found.body;
    } else {
      leave();
      ctx.body = found.bytes;
    }
  });

  return router;
}
