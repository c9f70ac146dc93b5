import { createServer } from 'node:http';
import { FileStore } from '@tus/file-store';
import { Server } from '@tus/server';

/**
 * The peer of the tus scenario: stock @tus/server with @tus/file-store, written the way their
 * README shows, on node:http. It keeps the bytes it is sent as they are (no type sniffing, no
 * validation, no metadata stripping, no publishing under a new name), in UPLOAD_DIR.
 */
const port = Number(process.env.PORT ?? 3003);
const host = process.env.HOST ?? '127.0.0.1';
const directory = process.env.UPLOAD_DIR ?? './files';

const tusServer = new Server({ path: '/files', datastore: new FileStore({ directory }) });
const server = createServer((request, response) => void tusServer.handle(request, response));

server.listen(port, host);

process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
