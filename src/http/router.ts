import Router from '@koa/router';

/**
 * Every route file makes its router here. @koa/router matches without regard to case and
 * takes a trailing slash by default, while the guard (middleware/guard-api.ts) decides what
 * to guard from the path as sent: `/V1/images` was routed to POST /v1/images and skipped
 * authentication, the rate limit and the upload-slot cap. Matched exactly, the router serves
 * only paths the guard sees as what they are; anything else is a 404.
 */
export function createRouter<State = unknown>(): Router<State> {
  return new Router<State>({ sensitive: true, strict: true });
}
