import * as z from 'zod';
import type { Config } from '../../config.js';
import {
  everywhereErrors,
  errorResponses,
  guardErrors,
  guardedHeaders,
  type JsonSchema,
  type Operation,
  type PathPiece,
} from './spec.js';
import { focusPattern } from './schemas.js';
import { compatPaths } from './paths/compat.js';
import { directUploadPaths, localDirectUploadPaths } from './paths/direct.js';
import { imageByIdPaths } from './paths/image-by-id.js';
import { imagesPaths } from './paths/images.js';
import { localFilePaths } from './paths/local-files.js';
import { probePaths } from './paths/probes.js';
import { referencePaths } from './paths/reference.js';
import { renditionPaths } from './paths/renditions.js';
import { tusPaths } from './paths/tus.js';
import { uploadPagePaths } from './paths/upload-page.js';

/** What of the configuration the document depends on. */
export interface DocumentOptions {
  /** The servers entry; PUBLIC_BASE_URL or the request's own origin. */
  readonly serverUrl: string;
  /** Whether /v1/ needs credentials (false: every caller is anonymous, none get a 401). */
  readonly authRequired: boolean;
  /** Whether RATE_LIMIT is on (RateLimit headers, 429). */
  readonly rateLimited: boolean;
  /** Whether the local driver serves /uploads/{name}. */
  readonly localFiles: boolean;
  /** Whether the store has a staging area, for tus uploads. */
  readonly staging: boolean;
  /** Whether the app takes direct uploads (it was given a staging layer). */
  readonly directUploads: boolean;
}

export function documentOptionsOf(
  config: Config,
  serverUrl: string,
  { staging, directUploads }: { readonly staging: boolean; readonly directUploads: boolean },
): DocumentOptions {
  return {
    serverUrl,
    authRequired: !config.security.auth.anonymous,
    rateLimited: config.security.rateLimitPerMinute > 0,
    localFiles: config.storage.driver === 'local',
    staging,
    directUploads,
  };
}

/** Each route group's piece; a new group adds its own here. */
function piecesFor(options: DocumentOptions): PathPiece[] {
  return [
    imagesPaths,
    imageByIdPaths,
    renditionPaths,
    compatPaths,
    // Before tus: a request answered before routing is matched to the first path that fits,
    // and /v1/uploads/{id} would take /v1/uploads/direct.
    ...(options.directUploads ? [directUploadPaths] : []),
    ...(options.directUploads && options.localFiles ? [localDirectUploadPaths] : []),
    ...(options.staging ? [tusPaths] : []),
    ...(options.localFiles ? [localFilePaths] : []),
    probePaths,
    referencePaths,
    uploadPagePaths,
  ];
}

const requestIdHeader = { 'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' } };

/** The catalogue codes an operation can answer with, as configured. */
export function errorCodesOf(operation: Operation, options: DocumentOptions): Operation['errors'] {
  const guard = operation.guard === undefined ? [] : guardErrors[operation.guard];
  return [...guard, ...operation.errors, ...everywhereErrors].filter(
    (code) =>
      (code !== 'unauthorized' || options.authRequired) &&
      (code !== 'rate_limited' || options.rateLimited),
  );
}

function renderOperation(operation: Operation, options: DocumentOptions): JsonSchema {
  const { guard, errors: _errors, responses, ...rest } = operation;
  const extraHeaders = {
    ...requestIdHeader,
    ...(options.rateLimited ? guardedHeaders(guard) : {}),
  };
  const all: Record<string, JsonSchema> = {
    ...responses,
    ...errorResponses(errorCodesOf(operation, options), options.rateLimited ? guard : undefined),
  };
  const withHeaders = Object.fromEntries(
    Object.entries(all).map(([status, response]) => [
      status,
      { ...response, headers: { ...extraHeaders, ...(response.headers as JsonSchema) } },
    ]),
  );
  const security =
    guard === undefined || guard === 'signed'
      ? []
      : options.authRequired
        ? [{ bearerAuth: [] }]
        : // Open (no credentials configured): a bearer header is accepted and ignored.
          [{}];
  return { ...rest, security, responses: withHeaders };
}

function schemaComponents(): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(z.globalRegistry, {
    io: 'output',
    uri: (id) => `#/components/schemas/${id}`,
  });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, schema]) => {
      const { $schema: _s, $id: _i, ...json } = schema as JsonSchema;
      return [id, json];
    }),
  );
}

const header = (description: string, example?: string): JsonSchema => ({
  description,
  schema: { type: 'string' },
  ...(example === undefined ? {} : { example }),
});

/** The OpenAPI 3.1 document of what this app serves, built from the code's own schemas. */
export function buildOpenApiDocument(options: DocumentOptions): JsonSchema {
  const paths: Record<string, JsonSchema> = {};
  for (const piece of piecesFor(options)) {
    for (const [path, item] of Object.entries(piece)) {
      paths[path] = Object.fromEntries(
        Object.entries(item).map(([method, operation]) => [
          method,
          renderOperation(operation, options),
        ]),
      );
    }
  }
  return {
    openapi: '3.1.1',
    info: {
      title: 'image-ingest',
      version: '1',
      summary: 'Receives images, verifies them from their bytes, and stores them.',
      description:
        'Errors are always `{"error": {"code", "message"}}`; each response lists the codes it ' +
        'can carry. Retry a 503 or 429 after its Retry-After; send an Idempotency-Key so a ' +
        'retried upload is never stored twice.',
      license: { name: 'UNLICENSED', identifier: 'UNLICENSED' },
    },
    servers: [{ url: options.serverUrl }],
    tags: [
      { name: 'images', description: 'Upload, describe and delete images.' },
      ...(options.staging || options.directUploads
        ? [
            {
              name: 'uploads',
              description: [
                ...(options.staging ? ['Resumable uploads (tus 1.0).'] : []),
                ...(options.directUploads
                  ? ['Direct uploads: the bytes go to a signed URL, then are completed here.']
                  : []),
              ].join(' '),
            },
          ]
        : []),
      { name: 'compatibility', description: 'Aliases for open-event-server’s frontend.' },
      ...(options.localFiles
        ? [{ name: 'files', description: 'Stored files (local driver).' }]
        : []),
      { name: 'operations', description: 'Probes and metrics.' },
      { name: 'reference', description: 'This document and its page.' },
      { name: 'page', description: 'The upload page at / and the files it loads.' },
    ],
    paths,
    components: {
      schemas: schemaComponents(),
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description:
            '`Authorization: Bearer <credential>`: an API key (API_KEYS) or a JWT (HS256 ' +
            'JWT_SECRET or a JWKS at JWT_JWKS_URL, with issuer and audience checked).',
        },
      },
      parameters: {
        IdempotencyKey: {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description:
            '1 to 255 visible ASCII characters. A retry with the same key and the same image ' +
            'answers the first upload again; with another image, 422 idempotency_key_reused.',
          schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' },
          example: 'upload-2026-12-01-0001',
        },
        ImageFocus: {
          name: 'Image-Focus',
          in: 'header',
          required: false,
          description:
            'The image’s focal point, `x,y`, each from 0 (left, top) to 1: crops with ' +
            'gravity=focus keep it in view. A JSON body may carry it as its member `focus`, a ' +
            'form as its field `focus`, tus as Upload-Metadata `focus`: one of them, not two. ' +
            'Set or changed later with PATCH /v1/images/{id}.',
          schema: { type: 'string', pattern: focusPattern },
          example: '0.5,0.3',
        },
        DeleteToken: {
          name: 'Delete-Token',
          in: 'header',
          required: false,
          description: 'The deleteToken an anonymous upload answered with.',
          schema: { type: 'string' },
        },
      },
      headers: {
        Location: header('The stored image’s URL.'),
        'Retry-After': {
          description: 'Seconds to wait before trying again.',
          schema: { type: 'string', pattern: '^[0-9]+$' },
          example: '5',
        },
        RateLimit: header(
          'The caller’s quota in this window (IETF RateLimit header fields draft).',
          'limit=60, remaining=59, reset=60',
        ),
        'RateLimit-Policy': header('The quota: requests per window of seconds.', '60;w=60'),
        'WWW-Authenticate': header('The Bearer challenge.', 'Bearer realm="image-ingest"'),
        'Cache-Control-No-Store': header('Never cached.', 'no-store'),
        'X-Request-Id': {
          description: 'The request’s id (the caller’s own X-Request-Id when sane), as logged.',
          required: true,
          schema: { type: 'string' },
        },
      },
    },
  };
}

/**
 * The request headers the document's operations take: their header parameters (components'
 * included), `Authorization` when an operation is guarded, `Content-Type` when one has a body.
 * The CORS preflight allows exactly these (src/http/app.ts), so a header documented for an
 * operation is one a browser may send, with no second list to keep in step.
 */
export function requestHeadersOf(document: JsonSchema): string[] {
  const components = (document.components ?? {}) as {
    parameters?: Record<string, { name?: string; in?: string }>;
  };
  const names = new Set<string>();
  const paths = (document.paths ?? {}) as Record<string, Record<string, JsonSchema>>;
  for (const item of Object.values(paths)) {
    for (const operation of Object.values(item)) {
      const security = (operation.security ?? []) as readonly Record<string, unknown>[];
      if (security.some((scheme) => 'bearerAuth' in scheme)) names.add('Authorization');
      if (operation.requestBody !== undefined) names.add('Content-Type');
      for (const parameter of (operation.parameters ?? []) as JsonSchema[]) {
        const ref = typeof parameter.$ref === 'string' ? parameter.$ref : undefined;
        const resolved =
          ref === undefined ? parameter : components.parameters?.[ref.split('/').pop()!];
        if (resolved?.in === 'header' && typeof resolved.name === 'string')
          names.add(resolved.name);
      }
    }
  }
  return [...names].sort();
}
