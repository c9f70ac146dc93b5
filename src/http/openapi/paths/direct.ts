import type { ErrorCode } from '../../../errors.js';
import {
  jsonContent,
  noStoreHeaders,
  pathParameter,
  type JsonSchema,
  type PathPiece,
} from '../spec.js';
import { createdImageResponse, pipelineErrors } from './images.js';

/**
 * Direct uploads (src/http/routes/direct-uploads.ts): create, send the bytes elsewhere, complete.
 * Present when the app has a staging layer; the local driver's stand-in for the bucket's
 * signed URLs (src/http/routes/local-upload-targets.ts) only with that driver.
 */

const exampleId = '6d412bc9-424e-4ad4-b68c-2964b40eee84';

const uploadId = pathParameter(
  'id',
  'The `id` POST /v1/uploads/direct answered (its `completeUrl` holds it).',
  exampleId,
);

const exampleCreated = {
  id: exampleId,
  method: 'put',
  url: `https://storage.googleapis.com/images-bucket/staging/direct/${exampleId}/data?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Expires=600&X-Goog-Signature=3f9a0c`,
  headers: {
    'Content-Type': 'application/octet-stream',
    'Content-Disposition': 'attachment',
    'x-goog-content-length-range': '1598,1598',
  },
  expiresAt: '2026-12-01T23:20:00.000Z',
  completeUrl: `https://api.example.com/v1/uploads/${exampleId}/complete`,
};

const query = (name: string, description: string, schema: JsonSchema): JsonSchema => ({
  name,
  in: 'query',
  required: true,
  description,
  schema,
});

const header = (name: string, description: string, schema: JsonSchema): JsonSchema => ({
  name,
  in: 'header',
  required: false,
  description,
  schema,
});

const digits = (max: number): JsonSchema => ({ type: 'string', pattern: `^[0-9]{1,${max}}$` });

/** What the local upload URL's PUT can answer with, both methods. */
const localPutErrors = [
  'invalid_signature',
  'not_found',
  'upload_expired',
  'upload_too_large',
  'upload_size_mismatch',
  'invalid_content_range',
  'storage_unavailable',
] as const satisfies readonly ErrorCode[];

export const directUploadPaths: PathPiece = {
  '/v1/uploads/direct': {
    post: {
      operationId: 'createDirectUpload',
      summary: 'Get a URL to send an image’s bytes to',
      description:
        'The bytes then skip this service’s request body: PUT them to `url` with exactly ' +
        '`headers` (`put`: one PUT of the whole image; `resumable`: a session taking chunks ' +
        'with Content-Range, 308 with Range until the last, then 200, as GCS and UpChunk do), ' +
        'then POST `completeUrl`. With GCS the URL is the bucket’s (a V4 signed URL or a ' +
        'resumable session); with the local driver it is PUT /v1/uploads/direct/{id} here.',
      tags: ['uploads'],
      guard: 'upload',
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: { $ref: '#/components/schemas/DirectUploadRequest' },
            examples: {
              put: {
                summary: 'One signed PUT',
                value: { size: 1598, type: 'image/jpeg', method: 'put' },
              },
              resumable: {
                summary: 'A resumable session',
                value: { size: 1598, method: 'resumable' },
              },
            },
          },
        },
      },
      responses: {
        '201': {
          description: 'Created: where and how to send the bytes.',
          headers: noStoreHeaders,
          content: jsonContent('DirectUpload', exampleCreated),
          links: {
            CompleteDirectUpload: {
              operationId: 'completeDirectUpload',
              parameters: { id: '$response.body#/id' },
            },
          },
        },
      },
      errors: [
        'json_required',
        'invalid_json',
        'request_too_large',
        'invalid_upload_request',
        'payload_too_large',
        'signed_put_unavailable',
        'too_many_open_uploads',
        'storage_unavailable',
      ],
    },
  },
  '/v1/uploads/{id}/complete': {
    post: {
      operationId: 'completeDirectUpload',
      summary: 'Store a direct upload’s bytes as an image',
      description:
        'No body. Reads the staged bytes through the same pipeline as POST /v1/images and ' +
        'answers as it does; a retry answers the same image again, never a second one. ' +
        'Refused bytes leave nothing behind. 409 while the bytes have not all arrived; 410 ' +
        'after twice the expiry. Only its creator sees an upload: another’s is a 404.',
      tags: ['uploads'],
      guard: 'upload',
      parameters: [uploadId, { $ref: '#/components/parameters/IdempotencyKey' }],
      responses: {
        '201': createdImageResponse,
      },
      errors: [
        'not_found',
        'upload_incomplete',
        'upload_expired',
        'upload_too_large',
        'upload_size_mismatch',
        ...pipelineErrors,
      ],
    },
  },
};

/** The local driver's signed upload URL: what a GCS URL is with the other driver. */
export const localDirectUploadPaths: PathPiece = {
  '/v1/uploads/direct/{id}': {
    put: {
      operationId: 'sendDirectUpload',
      summary: 'Send a direct upload’s bytes (local driver)',
      description:
        'The `url` POST /v1/uploads/direct answered, as it stands: the signature is the ' +
        'credential (no Authorization). `method=put`: the whole image in one body. ' +
        '`method=resumable`: chunks with `Content-Range: bytes <first>-<last>/<total>` ' +
        '(`bytes */<total>` asks what has arrived); 308 with `Range: bytes=0-<n>` until the ' +
        'last byte, then 200. The bytes wait unverified, never served, until completed.',
      tags: ['uploads'],
      guard: 'signed',
      parameters: [
        uploadId,
        query('method', 'As signed.', { type: 'string', enum: ['put', 'resumable'] }),
        query('expires', 'Unix seconds, as signed.', digits(12)),
        query('size', 'The declared size, as signed.', digits(15)),
        query('signature', 'HMAC-SHA256 over id, method, expiry and size.', {
          type: 'string',
          pattern: '^[0-9a-f]{64}$',
        }),
        header(
          'Content-Range',
          '(resumable) `bytes <first>-<last>/<total>` or `bytes */<total>`.',
          {
            type: 'string',
            example: 'bytes 0-262143/1048576',
          },
        ),
      ],
      requestBody: {
        required: false,
        content: {
          'application/octet-stream': {
            schema: { type: 'string', contentMediaType: 'application/octet-stream' },
          },
        },
      },
      responses: {
        '200': {
          description: 'The upload holds all its bytes: POST its completeUrl next.',
          headers: noStoreHeaders,
          content: jsonContent('DirectUploadReceived', { id: exampleId, size: 1598 }),
        },
        '308': {
          description:
            '(resumable) Not whole yet: Range tells what has arrived (absent: nothing yet).',
          headers: {
            ...noStoreHeaders,
            Range: {
              description: 'The bytes received, `bytes=0-<last>`.',
              schema: { type: 'string', pattern: '^bytes=0-[0-9]+$' },
              example: 'bytes=0-262143',
            },
          },
        },
      },
      errors: localPutErrors,
    },
  },
};
