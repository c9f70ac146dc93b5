import type { ErrorCode } from '../../../errors.js';
import {
  jsonContent,
  noStoreHeaders,
  pathParameter,
  type JsonSchema,
  type Operation,
  type PathPiece,
} from '../spec.js';
import { pipelineErrors } from './images.js';

/**
 * tus 1.0 at /v1/uploads (src/http/routes/tus-uploads.ts): core, creation,
 * creation-with-upload, creation-defer-length, termination, expiration, checksum,
 * concatenation; plus
 * GET /v1/uploads/{id} for the finished image. Present when the store has a staging area.
 */

const header = (name: string, description: string, schema: object = { type: 'string' }) => ({
  name,
  in: 'header',
  required: false,
  description,
  schema,
});

const tusResumable = {
  ...header('Tus-Resumable', 'The tus version the client speaks.', {
    type: 'string',
    enum: ['1.0.0'],
  }),
  required: true,
};
const byteCount = { type: 'string', pattern: '^[0-9]+$' };
const uploadId = pathParameter(
  'id',
  'The upload’s id, the last segment of the Location its creation answered.',
);
const checksum = header('Upload-Checksum', '`<sha1|sha256|md5> <base64 digest>` of this chunk.');

const responseHeader = (description: string) => ({ description, schema: { type: 'string' } });
const tusHeaders = { 'Tus-Resumable': responseHeader('1.0.0, on every tus answer but OPTIONS.') };
const uploadState = {
  ...tusHeaders,
  'Upload-Offset': responseHeader(
    'The bytes the upload holds (a final upload: its length, once it is done).',
  ),
  'Upload-Concat': responseHeader(
    'A partial or final upload (concatenation): `partial`, or `final;` and its partials’ URLs as sent.',
  ),
  'Upload-Length': responseHeader('Its declared length (absent while deferred).'),
  'Upload-Defer-Length': responseHeader('1 while the length is still unknown.'),
  'Upload-Expires': responseHeader('When an unfinished upload is swept (HTTP date).'),
  'Image-Location': responseHeader('Once finished: the stored image’s URL.'),
  'Image-Id': responseHeader('Once finished: the stored image’s id.'),
};

/** A chunk can finish the upload, which then goes through the same pipeline as POST /v1/images. */
const chunkErrors = [
  'tus_version_unsupported',
  'invalid_upload_offset',
  'invalid_upload_length',
  'invalid_upload_checksum',
  'invalid_upload_content_type',
  'upload_offset_mismatch',
  'upload_too_large',
  'too_many_upload_pieces',
  'upload_checksum_mismatch',
  'upload_expired',
  'upload_rejected',
  'not_found',
  ...pipelineErrors,
] as const satisfies readonly ErrorCode[];

/** A final upload (Upload-Concat: final;…) is checked and finished by its creation. */
const concatErrors = [
  'invalid_upload_concat',
  'too_many_partial_uploads',
  'partial_upload_not_found',
  'not_a_partial_upload',
  'partial_upload_incomplete',
  'partial_upload_used',
] as const satisfies readonly ErrorCode[];

const chunkBody = {
  content: {
    'application/offset+octet-stream': {
      schema: { type: 'string', contentMediaType: 'application/octet-stream' },
    },
  },
};

const describeServer = (operationId: string, parameters: JsonSchema[]): Operation => ({
  operationId,
  summary: 'What this tus server supports',
  tags: ['uploads'],
  parameters,
  responses: {
    '204': {
      description: 'The tus version, extensions, largest upload and checksum algorithms.',
      headers: {
        'Tus-Version': responseHeader('1.0.0'),
        'Tus-Extension': responseHeader('The extensions, comma-separated.'),
        'Tus-Max-Size': responseHeader('MAX_IMAGE_BYTES.'),
        'Tus-Checksum-Algorithm': responseHeader('sha1,sha256,md5'),
      },
    },
  },
  errors: parameters.length === 0 ? [] : ['not_found'],
});

/** For an id the service never makes, the router answers OPTIONS itself: 200 with Allow. */
const routerOptionsAnswer = {
  '200': {
    description: 'Not an upload id this service makes: the router’s own answer.',
    headers: { Allow: { description: 'The methods the path takes.', schema: { type: 'string' } } },
  },
};

export const tusPaths: PathPiece = {
  '/v1/uploads': {
    options: describeServer('describeTusServer', []),
    post: {
      operationId: 'createUpload',
      summary: 'Start a resumable (tus) upload',
      description:
        'Upload-Length (or Upload-Defer-Length: 1) declares the size; a body, if any, is the ' +
        'first chunk (creation-with-upload). The Location is the upload’s URL for HEAD, PATCH ' +
        'and DELETE. Upload-Concat: partial makes a partial upload, whose bytes wait for a final ' +
        'upload; Upload-Concat: final;<URLs> (no Upload-Length, no body) makes the final upload ' +
        'of complete partials, in that order, checked and stored as one image by this request ' +
        '(201 with Image-Location), the partials removed.',
      tags: ['uploads'],
      guard: 'upload',
      parameters: [
        tusResumable,
        header('Upload-Length', 'The whole upload’s size in bytes.', byteCount),
        header('Upload-Defer-Length', '1: the size is sent with a later PATCH.', {
          type: 'string',
          enum: ['1'],
        }),
        header(
          'Upload-Metadata',
          'Comma-separated `key base64value` pairs: filename and filetype (hints only), and ' +
            'focus, the image’s focal point `x,y` (each from 0 to 1; 400 invalid_focus if not).',
        ),
        checksum,
        header(
          'Upload-Concat',
          '`partial`, or `final;` and the space-separated URLs of this caller’s complete partial ' +
            'uploads on this server (absolute, or paths such as /v1/uploads/{id}), each once.',
        ),
        { $ref: '#/components/parameters/IdempotencyKey' },
      ],
      requestBody: { required: false, ...chunkBody },
      responses: {
        '201': {
          description: 'Created.',
          headers: {
            Location: { $ref: '#/components/headers/Location' },
            ...uploadState,
          },
        },
      },
      errors: [
        'invalid_upload_metadata',
        'invalid_focus',
        'too_many_open_uploads',
        ...concatErrors,
        ...chunkErrors,
      ],
    },
  },
  '/v1/uploads/{id}': {
    options: {
      ...describeServer('describeTusUpload', [uploadId]),
      responses: { ...describeServer('', []).responses, ...routerOptionsAnswer },
    },
    head: {
      operationId: 'getUploadOffset',
      summary: 'How much of a tus upload the server holds',
      tags: ['uploads'],
      guard: 'api',
      parameters: [uploadId, tusResumable],
      responses: {
        '200': {
          description: 'Its offset and length.',
          headers: { ...noStoreHeaders, ...uploadState },
        },
      },
      errors: ['tus_version_unsupported', 'not_found', 'upload_expired', 'upload_rejected'],
    },
    patch: {
      operationId: 'appendToUpload',
      summary: 'Send the next chunk of a tus upload',
      description:
        'Upload-Offset must equal the bytes the upload holds (HEAD tells). The chunk that ' +
        'completes the upload stores the image, as POST /v1/images does (a partial upload’s ' +
        'waits for its final upload). A final upload takes no PATCH (403).',
      tags: ['uploads'],
      guard: 'upload',
      parameters: [
        uploadId,
        tusResumable,
        { ...header('Upload-Offset', 'Where this chunk starts.', byteCount), required: true },
        header('Upload-Length', 'The size, once, for an upload created deferred.', byteCount),
        checksum,
      ],
      requestBody: { required: true, ...chunkBody },
      responses: { '204': { description: 'Taken.', headers: uploadState } },
      errors: ['upload_is_final', ...chunkErrors],
    },
    delete: {
      operationId: 'terminateUpload',
      summary: 'Terminate a tus upload',
      tags: ['uploads'],
      guard: 'api',
      parameters: [uploadId, tusResumable],
      responses: { '204': { description: 'Terminated.', headers: tusHeaders } },
      errors: [
        'tus_version_unsupported',
        'not_found',
        'upload_expired',
        'partial_upload_used',
        'upload_offset_mismatch',
      ],
    },
    get: {
      operationId: 'getUpload',
      summary: 'The image a tus upload made, or how far it is',
      description:
        'Not part of tus. 200 with the stored image once finished; 202 while receiving; a ' +
        'refused upload answers the pipeline’s error, as POST /v1/images would have.',
      tags: ['uploads'],
      guard: 'api',
      parameters: [uploadId],
      responses: {
        '200': {
          description: 'Finished: the stored image.',
          headers: { ...noStoreHeaders, ...tusHeaders },
          content: jsonContent('CreatedImage'),
        },
        '202': {
          description: 'Still receiving.',
          headers: { ...noStoreHeaders, ...tusHeaders },
          content: jsonContent('UploadProgress'),
        },
      },
      errors: ['not_found', 'upload_expired', ...pipelineErrors],
    },
  },
};
