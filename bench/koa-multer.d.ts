/**
 * @koa/multer 4 ships no types. It is multer itself (typed by @types/multer) with each
 * middleware factory wrapped into a Koa middleware that resolves once the form has been read
 * and puts the file on `ctx.file` and `ctx.request.file`.
 */
declare module '@koa/multer' {
  import type { Middleware } from 'koa';
  import type { Field, Options, StorageEngine } from 'multer';

  export type File = Express.Multer.File;

  export interface Instance {
    single(fieldName: string): Middleware;
    array(fieldName: string, maxCount?: number): Middleware;
    fields(fields: readonly Field[]): Middleware;
    none(): Middleware;
    any(): Middleware;
  }

  interface KoaMulter {
    (options?: Options): Instance;
    memoryStorage(): StorageEngine;
  }

  const multer: KoaMulter;
  export default multer;
}
