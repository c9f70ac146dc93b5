import type { ErrorCode } from '../../../errors.js';
import { examplePngDataUri, exampleCreatedImage } from '../examples.js';
import { focusPattern } from '../schemas.js';
import { jsonContent, type PathPiece } from '../spec.js';

/** What the pipeline (ingestImage) can refuse, whatever door the bytes came through. */
export const pipelineErrors = [
  'invalid_idempotency_key',
  'payload_too_large',
  'unsupported_media_type',
  'unsupported_image_type',
  'empty_image',
  'undecodable_image',
  'too_many_pixels',
  'idempotency_key_reused',
  'invalid_focus',
  'storage_unavailable',
] as const satisfies readonly ErrorCode[];

/** A {"data": "<data URI>"} body. */
export const jsonBodyErrors = [
  'invalid_json',
  'invalid_data_uri',
  'invalid_base64',
  'missing_data',
] as const satisfies readonly ErrorCode[];

/** A multipart/form-data body. */
export const multipartErrors = [
  'invalid_multipart',
  'too_many_files',
  'unexpected_file_field',
  'too_many_parts',
  'too_many_fields',
  'field_too_large',
  'missing_file',
] as const satisfies readonly ErrorCode[];

export const jsonImageBody = {
  schema: { $ref: '#/components/schemas/ImageJsonRequest' },
  examples: { png: { summary: 'A 1 x 1 PNG', value: { data: examplePngDataUri } } },
};

export const multipartImageBody = {
  schema: {
    type: 'object',
    properties: {
      file: { type: 'string', contentMediaType: 'application/octet-stream' },
      focus: {
        type: 'string',
        description:
          'The image’s focal point, `x,y`, each from 0 to 1 (or the Image-Focus header; not ' +
          'both). Before or after the file.',
        pattern: focusPattern,
        example: '0.5,0.3',
      },
    },
    required: ['file'],
  },
  encoding: { file: { contentType: 'image/*, application/octet-stream' } },
};

/** What a client (and schemathesis's stateful phase) can do next with the id it was given. */
export const createdImageLinks = {
  GetImage: { operationId: 'getImage', parameters: { id: '$response.body#/id' } },
  DeleteImage: {
    operationId: 'deleteImage',
    parameters: { id: '$response.body#/id', 'header.Delete-Token': '$response.body#/deleteToken' },
  },
};

/** The 201 of every door that stores an image as POST /v1/images does. */
export const createdImageResponse = {
  description: 'Stored. Location is the image’s URL.',
  headers: { Location: { $ref: '#/components/headers/Location' } },
  content: jsonContent('CreatedImage', exampleCreatedImage),
  links: createdImageLinks,
};

const binary = { schema: { type: 'string', contentMediaType: 'application/octet-stream' } };

export const imagesPaths: PathPiece = {
  '/v1/images': {
    post: {
      operationId: 'createImage',
      summary: 'Upload an image',
      description:
        'The body is the image in one of three forms, chosen by Content-Type: JSON with a base64 ' +
        'data URI, a multipart form with one `file` (or `image`) part, or the bytes themselves. ' +
        'The type is sniffed from the bytes; labels are ignored. With an Idempotency-Key, a ' +
        'retry answers the first upload again instead of storing a second copy.',
      tags: ['images'],
      guard: 'upload',
      parameters: [
        { $ref: '#/components/parameters/IdempotencyKey' },
        { $ref: '#/components/parameters/ImageFocus' },
      ],
      requestBody: {
        required: true,
        content: {
          'application/json': jsonImageBody,
          'multipart/form-data': multipartImageBody,
          'image/*': binary,
          'application/octet-stream': binary,
        },
      },
      responses: {
        '201': createdImageResponse,
      },
      errors: [...pipelineErrors, ...jsonBodyErrors, ...multipartErrors],
    },
  },
};
