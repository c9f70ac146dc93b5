import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { close, listen, useCleanups, type Harness } from '../http/harness.js';
import type { StagingArea } from '../../src/storage/staging/staging.js';

/** One answer of the service, headers lower-cased, the body parsed when it is JSON. */
export interface TusResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

/** A listening harness and a raw tus caller (fetch, byte-exact bodies) for protocol tests. */
export interface TusServer {
  readonly origin: string;
  call(
    method: string,
    urlPath: string,
    headers?: Record<string, string>,
    body?: Buffer,
  ): Promise<TusResponse>;
  close(): Promise<void>;
}

/** serveTus for the tests of one file: each listener is closed after its test. */
export function useTusServers(): (harness: Harness) => Promise<TusServer> {
  const defer = useCleanups();
  return async (harness) => {
    const server = await serveTus(harness);
    defer(() => server.close());
    return server;
  };
}

export async function serveTus(harness: Harness): Promise<TusServer> {
  const { server, port } = await listen(harness.callback);
  // The client (fetch, undici) drops an idle connection after 4 s; a server that drops it
  // first (Node's default is 5 s) races a request sent on it as the two timers come due
  // together after the event loop stalled, and the client reads ECONNRESET. Seen under load
  // in tus-hostile's 10,000 creations; the client must be the one to let go.
  server.keepAliveTimeout = 60_000;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    async call(method, urlPath, headers = {}, body) {
      const response = await fetch(`${origin}${urlPath}`, {
        method,
        headers: { 'Tus-Resumable': '1.0.0', ...headers },
        ...(body === undefined ? {} : { body: new Uint8Array(body) }),
      });
      const text = await response.text();
      let parsed: unknown = text === '' ? undefined : text;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        // Not JSON.
      }
      return { status: response.status, headers: Object.fromEntries(response.headers), body: parsed };
    },
    close: () => close(server),
  };
}

/** The path of an upload from its Location. */
export function uploadPath(location: string | undefined): string {
  if (location === undefined) throw new Error('no Location');
  return new URL(location).pathname;
}

export const patchHeaders = (offset: number): Record<string, string> => ({
  'Content-Type': 'application/offset+octet-stream',
  'Upload-Offset': String(offset),
});

/** The tus area of a harness's staging layer. */
export function tusStaging(harness: Harness): StagingArea {
  return harness.staging.tus;
}

/** Ids staged in the tus area (records or pieces). */
export async function stagedIds(harness: Harness): Promise<string[]> {
  const { records, bytes } = tusStaging(harness);
  const ids = new Set<string>();
  for await (const id of records.listIds()) ids.add(id);
  for await (const { id } of bytes.list()) ids.add(id);
  return [...ids].sort();
}

/** Pieces staged for an upload, looked at around the driver (folder entries or objects). */
export async function stagedPieceCount(harness: Harness, id: string): Promise<number> {
  if (harness.config.storage.driver === 'local') {
    const folder = path.join(harness.config.storage.uploadDir, '.staging', 'tus', id);
    const entries = await readdir(folder).catch(() => []);
    return entries.filter((entry) => entry.startsWith('piece.')).length;
  }
  const names = await harness.storedNames();
  const prefix = `${harness.config.staging.prefix}tus/${id}/`;
  return names.filter((name) => name.startsWith(prefix) && !name.endsWith('/upload.json')).length;
}
