import { jsonContent, noStoreHeaders, type PathPiece } from '../spec.js';

/** Liveness, readiness and metrics: outside guardApi, for load balancers and Prometheus. */
export const probePaths: PathPiece = {
  '/healthz': {
    get: {
      operationId: 'getHealth',
      summary: 'Liveness',
      description: 'Answers as long as the process serves HTTP; never looks at the store.',
      tags: ['operations'],
      responses: {
        '200': { description: 'Alive.', content: jsonContent('Health', { status: 'ok' }) },
      },
      errors: [],
    },
  },
  '/readyz': {
    get: {
      operationId: 'getReadiness',
      summary: 'Readiness',
      description:
        'Whether to send uploads here: the store answers, and the process is not draining.',
      tags: ['operations'],
      responses: {
        '200': {
          description: 'Ready.',
          headers: noStoreHeaders,
          content: jsonContent('Readiness', { status: 'ready' }),
        },
        '503': {
          description: 'Draining, or the store did not answer in time (then with Retry-After).',
          headers: {
            ...noStoreHeaders,
            'Retry-After': { $ref: '#/components/headers/Retry-After' },
          },
          content: jsonContent('Readiness', { status: 'store_unreachable' }),
        },
      },
      errors: [],
    },
  },
  '/metrics': {
    get: {
      operationId: 'getMetrics',
      summary: 'Prometheus metrics',
      tags: ['operations'],
      responses: {
        '200': {
          description: 'The text exposition format.',
          headers: noStoreHeaders,
          content: { 'text/plain': { schema: { type: 'string' } } },
        },
      },
      errors: [],
    },
  },
};
