// Lints the OpenAPI document the service builds (src/http/openapi/document.ts) with
// `redocly lint` and the recommended rules (redocly.yaml). Needs `npm run build` first
// (`npm run lint:api` does both). `--out <file>` keeps the document, e.g. for openapi-typescript.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const { buildOpenApiDocument } = await import(path.join(root, 'dist/http/openapi/document.js'));

// Every optional part on (auth, rate limits, local files), so the whole surface is linted.
const document = buildOpenApiDocument({
  serverUrl: 'https://images.internal.test',
  authRequired: true,
  rateLimited: true,
  localFiles: true,
  staging: true,
  directUploads: true,
});

const outIndex = process.argv.indexOf('--out');
const directory = mkdtempSync(path.join(tmpdir(), 'openapi-lint-'));
const file = outIndex === -1 ? path.join(directory, 'openapi.json') : process.argv[outIndex + 1];
writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);

const redocly = path.join(root, 'node_modules/.bin/redocly');
const result = spawnSync(
  redocly,
  ['lint', '--config', path.join(root, 'redocly.yaml'), '--format', 'stylish', file],
  {
    stdio: 'inherit',
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  },
);
rmSync(directory, { recursive: true, force: true });
process.exit(result.status ?? 1);
