import { exampleImage } from '../examples.js';
import { jsonContent, noStoreHeaders, pathParameter, type PathPiece } from '../spec.js';

const idParameter = pathParameter(
  'id',
  'The image’s id, as its upload answered it.',
  exampleImage.id,
);

export const imageByIdPaths: PathPiece = {
  '/v1/images/{id}': {
    get: {
      operationId: 'getImage',
      summary: 'Describe a stored image',
      tags: ['images'],
      guard: 'api',
      parameters: [idParameter],
      responses: {
        '200': {
          description: 'The image’s description, read back from the store.',
          headers: noStoreHeaders,
          content: jsonContent('Image', exampleImage),
        },
      },
      errors: ['not_found', 'storage_unavailable'],
    },
    patch: {
      operationId: 'setImageFocus',
      summary: 'Set the focal point that crops with gravity=focus keep in view',
      description:
        'Allowed to whoever may delete the image (its owner, or the bearer of its delete ' +
        'token). Renditions made around the old focal point are removed.',
      tags: ['images'],
      guard: 'upload',
      parameters: [idParameter, { $ref: '#/components/parameters/DeleteToken' }],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['focus'],
              properties: { focus: { $ref: '#/components/schemas/FocalPoint' } },
            },
            example: { focus: { x: 0.5, y: 0.3 } },
          },
        },
      },
      responses: {
        '200': {
          description: 'The image’s description, with its new focal point.',
          headers: noStoreHeaders,
          content: jsonContent('Image', exampleImage),
        },
      },
      errors: [
        'not_found',
        'forbidden',
        'invalid_focus',
        'invalid_json',
        'json_required',
        'request_too_large',
        'storage_unavailable',
      ],
    },
    delete: {
      operationId: 'deleteImage',
      summary: 'Delete a stored image and its variants',
      description:
        'Allowed to the authenticated caller that uploaded it, or to whoever presents the ' +
        'delete token its upload answered with (an anonymous upload).',
      tags: ['images'],
      guard: 'api',
      parameters: [idParameter, { $ref: '#/components/parameters/DeleteToken' }],
      responses: { '204': { description: 'Deleted.', headers: noStoreHeaders } },
      errors: ['not_found', 'forbidden', 'storage_unavailable'],
    },
  },
};
