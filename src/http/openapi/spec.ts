import * as z from 'zod';
import { errorCatalogue, type ErrorCode } from '../../errors.js';
import { errorBodySchema } from './schemas.js';

/**
 * The small vocabulary each path piece (paths/*.ts) uses to describe its operations. Error
 * responses are never written by hand: an operation lists the catalogue codes it can answer
 * with, and errorResponses groups them by the status the catalogue gives each.
 */

export type JsonSchema = Record<string, unknown>;

export interface Operation {
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly string[];
  /**
   * `api`: behind guardApi (auth, rate limit); `upload`: also an upload slot (POST);
   * `signed`: authorised by the URL's own signature, an upload slot only (no bearer).
   */
  readonly guard?: 'api' | 'upload' | 'signed';
  readonly parameters?: readonly JsonSchema[];
  readonly requestBody?: JsonSchema;
  /** Successful (and other non-error) responses, by status. */
  readonly responses: Readonly<Record<string, JsonSchema>>;
  /** Every catalogue code the route itself can answer with. */
  readonly errors: readonly ErrorCode[];
}

export type PathItem = Partial<
  Record<'get' | 'post' | 'delete' | 'head' | 'patch' | 'put' | 'options', Operation>
>;

/** What a route group contributes: its paths, in OpenAPI's `{param}` form. */
export type PathPiece = Readonly<Record<string, PathItem>>;

/** Codes that guardApi can answer with before any route runs. */
export const guardErrors = {
  api: ['unauthorized', 'rate_limited'],
  upload: ['unauthorized', 'rate_limited', 'server_busy'],
  signed: ['server_busy'],
} as const satisfies Record<string, readonly ErrorCode[]>;

/** renderErrors turns anything unknown into this. */
export const everywhereErrors = ['internal_error'] as const satisfies readonly ErrorCode[];

const rateLimitHeaders = {
  RateLimit: { $ref: '#/components/headers/RateLimit' },
  'RateLimit-Policy': { $ref: '#/components/headers/RateLimit-Policy' },
};

/** The headers any response behind guardApi may carry. */
export function guardedHeaders(guard: Operation['guard']): Record<string, JsonSchema> {
  return guard === undefined || guard === 'signed' ? {} : rateLimitHeaders;
}

function toSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _ignored, ...json } = z.toJSONSchema(schema, { io: 'output' });
  return json;
}

/** One response per status, each listing exactly the codes it can carry. */
export function errorResponses(
  codes: readonly ErrorCode[],
  guard: Operation['guard'],
): Record<string, JsonSchema> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const { status } = errorCatalogue[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<string, JsonSchema> = {};
  for (const [status, statusCodes] of [...byStatus].sort(([a], [b]) => a - b)) {
    const list = statusCodes as [ErrorCode, ...ErrorCode[]];
    const headers: Record<string, JsonSchema> = { ...guardedHeaders(guard) };
    if (status === 429 || status === 503) {
      headers['Retry-After'] = { $ref: '#/components/headers/Retry-After' };
    }
    if (status === 401)
      headers['WWW-Authenticate'] = { $ref: '#/components/headers/WWW-Authenticate' };
    responses[String(status)] = {
      description: list.map((code) => `\`${code}\`: ${errorCatalogue[code].message}`).join('\n\n'),
      headers,
      content: {
        'application/json': {
          // The shared Error component, narrowed to this response's codes.
          schema: {
            allOf: [{ $ref: '#/components/schemas/Error' }, toSchema(errorBodySchema(list))],
          },
          examples: Object.fromEntries(
            list.map((code) => [
              code,
              { value: { error: { code, message: errorCatalogue[code].message } } },
            ]),
          ),
        },
      },
    };
  }
  return responses;
}

/** A path segment such as `{id}`: any string, so that what the route refuses is described too. */
export function pathParameter(name: string, description: string, example?: string): JsonSchema {
  return {
    name,
    in: 'path',
    required: true,
    description,
    schema: { type: 'string' },
    ...(example === undefined ? {} : { example }),
  };
}

/** A response that is never cached. */
export const noStoreHeaders = {
  'Cache-Control': { $ref: '#/components/headers/Cache-Control-No-Store' },
};

/** A JSON response body by schema component name. */
export function jsonContent(component: string, example?: unknown): JsonSchema {
  return {
    'application/json': {
      schema: { $ref: `#/components/schemas/${component}` },
      ...(example === undefined ? {} : { example }),
    },
  };
}
