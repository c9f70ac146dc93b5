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
