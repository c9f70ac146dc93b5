/**
 * The error catalogue. Every failure a client can see has a stable snake_case code, an HTTP
 * status and a message that is safe to show; one middleware (src/http/middleware/errors.ts)
 * renders them. Anything that is not an AppError becomes `internal_error`.
 */

export const errorCatalogue = {
  bad_request: { status: 400, message: 'The request is malformed.' },
  invalid_json: { status: 400, message: 'The request body is not valid JSON.' },
  invalid_data_uri: {
    status: 400,
    message: 'The "data" field is not a base64 data URI (data:<type>;base64,<payload>).',
  },
  invalid_base64: { status: 400, message: 'The data URI payload is not valid base64.' },
  empty_image: { status: 400, message: 'The image is empty (zero bytes).' },
  invalid_idempotency_key: {
    status: 400,
    message: 'The Idempotency-Key header must be 1 to 255 visible ASCII characters.',
  },
  unauthorized: {
    status: 401,
    message: 'Missing or invalid credentials (Authorization: Bearer <API key or token>).',
  },
  not_found: { status: 404, message: 'Not found.' },
  method_not_allowed: { status: 405, message: 'Method not allowed.' },
  payload_too_large: { status: 413, message: 'The image is larger than the allowed maximum.' },
  unsupported_media_type: {
    status: 415,
    message:
      'Send the image as JSON (application/json), as a form (multipart/form-data), ' +
      'or as its own bytes (image/* or application/octet-stream).',
  },
  unsupported_image_type: {
    status: 415,
    message: 'The bytes are not an image of an allowed type.',
  },
  missing_data: {
    status: 422,
    message: 'The request body must be a JSON object with a string field "data".',
  },
  undecodable_image: {
    status: 422,
    message: 'The bytes are not a complete, valid image of the type they claim.',
  },
  too_many_pixels: {
    status: 422,
    message: 'The image declares more pixels than the allowed maximum.',
  },
  idempotency_key_reused: {
    status: 422,
    message: 'This Idempotency-Key was already used for a different image; use a new key.',
  },
  range_not_satisfiable: {
    status: 416,
    message: 'The requested range is not within the file (see Content-Range for its length).',
  },
  rate_limited: { status: 429, message: 'Too many requests; try again later.' },
  internal_error: { status: 500, message: 'An internal error occurred.' },
  not_implemented: { status: 501, message: 'The request method is not supported.' },
  storage_unavailable: {
    status: 503,
    message: 'The image store is unavailable; try again later.',
  },
  server_busy: {
    status: 503,
    message: 'Too many uploads are in progress; try again shortly.',
  },
  forbidden: { status: 403, message: 'You may not delete this image.' },
  // multipart/form-data bodies (src/ingest/multipart.ts). A body that breaks the grammar, or a
  // file part this endpoint does not take, is the client's mistake (400); a body past one of
  // the bounds set on it is 413, as fastify-multipart answers for each of its limits.
  invalid_multipart: {
    status: 400,
    message: 'The request body is not a complete multipart/form-data body.',
  },
  too_many_files: { status: 400, message: 'The form holds more file parts than allowed.' },
  unexpected_file_field: {
    status: 400,
    message: 'The form holds a file part under a name this endpoint does not take.',
  },
  too_many_parts: { status: 413, message: 'The form holds more parts than allowed.' },
  too_many_fields: { status: 413, message: 'The form holds more text fields than allowed.' },
  field_too_large: {
    status: 413,
    message: 'A text field of the form is larger than allowed.',
  },
  missing_file: {
    status: 422,
    message: 'The form holds no file part named "file" (or "image").',
  },
  // Direct uploads (POST /v1/uploads/direct, then the bytes to its URL, then .../complete).
  json_required: { status: 415, message: 'Send this request as JSON (application/json).' },
  request_too_large: {
    status: 413,
    message: 'The request body is larger than this endpoint takes.',
  },
  invalid_upload_request: {
    status: 400,
    message:
      'The body must be {"size": <bytes, a whole number>, "type"?: "<image type>", ' +
      '"method"?: "put" | "resumable"}.',
  },
  invalid_signature: { status: 403, message: 'The upload URL is not valid.' },
  // GCS without a signing identity: a configuration fact, so not 503 (retrying never helps).
  signed_put_unavailable: {
    status: 501,
    message:
      'This service cannot sign upload URLs for "method": "put"; create the upload with ' +
      '"method": "resumable" instead.',
  },
  upload_incomplete: {
    status: 409,
    message: 'The bytes of this upload have not all arrived yet; send them to its URL first.',
  },
  upload_size_mismatch: {
    status: 400,
    message: 'The bytes sent are not the size declared for this upload.',
  },
  invalid_content_range: {
    status: 400,
    message:
      'Content-Range must be "bytes <first>-<last>/<total or *>", continuing the bytes received.',
  },
  // tus resumable uploads (src/uploads/, src/http/routes/tus-uploads.ts).
  tus_version_unsupported: {
    status: 412,
    message: 'This server speaks tus 1.0.0; send Tus-Resumable: 1.0.0.',
  },
  invalid_upload_length: {
    status: 400,
    message: 'Upload-Length must be a whole number of bytes (or send Upload-Defer-Length: 1).',
  },
  invalid_upload_offset: {
    status: 400,
    message: 'Upload-Offset must be a whole number of bytes.',
  },
  invalid_upload_metadata: {
    status: 400,
    message: 'Upload-Metadata must be comma-separated "key base64value" pairs.',
  },
  invalid_upload_checksum: {
    status: 400,
    message: 'Upload-Checksum must be "<algorithm> <base64 digest>" with sha1, sha256 or md5.',
  },
  invalid_upload_content_type: {
    status: 415,
    message: 'A PATCH body must be sent as application/offset+octet-stream.',
  },
  upload_offset_mismatch: {
    status: 409,
    message: 'Upload-Offset does not match the bytes the upload holds; ask with HEAD and resume.',
  },
  upload_too_large: {
    status: 413,
    message: "The bytes sent go past the upload's declared length.",
  },
  too_many_open_uploads: {
    status: 429,
    message:
      'This caller has as many unfinished uploads as allowed; finish, delete or let some expire first.',
  },
  too_many_upload_pieces: {
    status: 400,
    message: 'The upload was sent in too many small chunks; send larger chunks.',
  },
  upload_checksum_mismatch: {
    status: 460,
    message: 'The chunk does not match its Upload-Checksum; it was discarded.',
  },
  upload_expired: { status: 410, message: 'The upload expired; start a new one.' },
  // tus concatenation (src/uploads/tus-concatenation.ts): partial uploads joined by a final one.
  invalid_upload_concat: {
    status: 400,
    message:
      'Upload-Concat must be "partial", or "final;" and the space-separated URLs of partial ' +
      'uploads of this server (absolute or as paths), each once; a final upload takes no ' +
      'Upload-Length and no body.',
  },
  too_many_partial_uploads: {
    status: 400,
    message: 'Upload-Concat names more than 64 partial uploads; a final upload joins at most 64.',
  },
  partial_upload_not_found: {
    status: 400,
    message:
      'An upload named in Upload-Concat does not exist, expired, or was not created by this caller.',
  },
  not_a_partial_upload: {
    status: 400,
    message: 'An upload named in Upload-Concat was not created with Upload-Concat: partial.',
  },
  partial_upload_incomplete: {
    status: 409,
    message:
      'A partial upload named in Upload-Concat has not received all its bytes; finish it first.',
  },
  partial_upload_used: {
    status: 409,
    message:
      'A partial upload is taken by a final upload (or used by one that named other partials, ' +
      'or them in another order).',
  },
  upload_is_final: {
    status: 403,
    message: 'A final upload takes no PATCH: its bytes are those of its partial uploads.',
  },
  // Renditions (GET /v1/images/{id}/render, src/renditions/).
  invalid_render_parameter: {
    status: 400,
    message: 'A rendition parameter is missing, unknown, repeated or out of range.',
  },
  invalid_focus: {
    status: 400,
    message:
      'The focal point must be {"focus": {"x": <0 to 1>, "y": <0 to 1>}} (PATCH), or "x,y" ' +
      '(Image-Focus header, focus field or tus metadata), each from 0 to 1.',
  },
  invalid_render_signature: {
    status: 403,
    message: 'The rendition URL is not signed, or its signature does not match its parameters.',
  },
  upload_rejected: {
    status: 410,
    message: 'The upload was refused and terminated; GET /v1/uploads/{id} tells why.',
  },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra response headers, e.g. Retry-After for 503. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: ErrorCode,
    options: { message?: string; cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(options.message ?? errorCatalogue[code].message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = errorCatalogue[code].status;
    this.headers = options.headers ?? {};
  }
}

/**
 * Recognised by shape rather than `instanceof`, which breaks across jest's module realms
 * (Koa's own source notes the same for its HttpError checks).
 */
export function isAppError(error: unknown): error is AppError {
  return (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    'status' in error &&
    typeof error.code === 'string' &&
    error.code in errorCatalogue
  );
}

/** The store failed (after its own retries): the client may try again in a moment. */
export function storageUnavailable(cause: unknown): AppError {
  return new AppError('storage_unavailable', { cause, headers: { 'Retry-After': '5' } });
}
