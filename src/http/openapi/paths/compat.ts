import { exampleCreatedImage } from '../examples.js';
import { jsonContent, type PathPiece } from '../spec.js';
import {
  createdImageLinks,
  jsonBodyErrors,
  jsonImageBody,
  multipartErrors,
  multipartImageBody,
  pipelineErrors,
} from './images.js';

/** The open-event-server aliases (src/http/routes/compat.ts): 200, with `url` first of all. */
export const compatPaths: PathPiece = {
  '/v1/upload/image': {
    post: {
      operationId: 'compatUploadImage',
      summary: 'Upload an image as JSON (open-event-server alias)',
      tags: ['compatibility'],
      guard: 'upload',
      parameters: [{ $ref: '#/components/parameters/IdempotencyKey' }],
      requestBody: { required: true, content: { 'application/json': jsonImageBody } },
      responses: {
        '200': {
          description: 'Stored.',
          content: jsonContent('CreatedImage', exampleCreatedImage),
          links: createdImageLinks,
        },
      },
      errors: [...pipelineErrors, ...jsonBodyErrors],
    },
  },
  '/v1/upload/files': {
    post: {
      operationId: 'compatUploadFiles',
      summary: 'Upload one `file` or several `files[]` (open-event-server alias)',
      description:
        'All or nothing: when one part is refused, the images already stored by the request ' +
        'are deleted. One `file` part answers its description; `files[]` parts answer a list.',
      tags: ['compatibility'],
      guard: 'upload',
      parameters: [{ $ref: '#/components/parameters/IdempotencyKey' }],
      requestBody: {
        required: true,
        content: {
          'multipart/form-data': {
            schema: {
              type: 'object',
              properties: {
                ...multipartImageBody.schema.properties,
                'files[]': {
                  type: 'array',
                  items: { type: 'string', contentMediaType: 'application/octet-stream' },
                  maxItems: 10,
                },
              },
            },
          },
        },
      },
      responses: {
        '200': {
          description: 'Stored.',
          content: {
            'application/json': {
              schema: {
                oneOf: [
                  { $ref: '#/components/schemas/CreatedImage' },
                  { $ref: '#/components/schemas/CompatFiles' },
                ],
              },
              example: { url: [exampleCreatedImage.url], images: [exampleCreatedImage] },
            },
          },
        },
      },
      errors: [...pipelineErrors, ...multipartErrors],
    },
  },
};
