import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ObjectStore } from './storage/object-store.js';

/**
 * Prometheus metrics, on a Registry of their own per app (never prom-client's global one),
 * so tests and embedders can create as many apps as they like.
 */
export interface Metrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly bytesIngested: Counter;
  readonly uploadsInFlight: Gauge;
  /** Upload slots (MAX_CONCURRENT_UPLOADS) held: back to 0 whenever no upload is running. */
  readonly uploadSlotsInUse: Gauge;
  /** The process guard's count: each is a bug (src/index.ts). */
  readonly uncaughtErrors: Counter<'kind'>;
  readonly storeDuration: Histogram<'operation' | 'outcome'>;
  readonly storeRetries: Counter<'operation'>;
  /** Rendition requests by what they cost: `rendered` (one decode) or `stored` (none). */
  readonly renditions: Counter<'outcome'>;
}

export function createMetrics(options: { processMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from the request arriving to the response being written.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    bytesIngested: new Counter({
      name: 'image_ingest_bytes_total',
      help: 'Decoded image bytes stored (201 responses).',
      registers: [registry],
    }),
    uploadsInFlight: new Gauge({
      name: 'image_ingest_uploads_in_flight',
      help: 'POST /v1/images requests being handled now.',
      registers: [registry],
    }),
    uploadSlotsInUse: new Gauge({
      name: 'image_ingest_upload_slots_in_use',
      help: 'Upload slots (MAX_CONCURRENT_UPLOADS) held by requests now, until their handling ends.',
      registers: [registry],
    }),
    uncaughtErrors: new Counter({
      name: 'process_uncaught_errors_total',
      help: 'Uncaught exceptions and unhandled rejections the process survived (each is a bug).',
      labelNames: ['kind'],
      registers: [registry],
    }),
    storeDuration: new Histogram({
      name: 'store_operation_duration_seconds',
      help: 'Store calls (put, delete, stat), retries included, by outcome.',
      labelNames: ['operation', 'outcome'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    storeRetries: new Counter({
      name: 'store_retries_total',
      help: 'Store attempts that failed transiently and were retried.',
      labelNames: ['operation'],
      registers: [registry],
    }),
    renditions: new Counter({
      name: 'image_renditions_total',
      help: 'Renditions answered: rendered from the original (a decode) or served as stored.',
      labelNames: ['outcome'],
      registers: [registry],
    }),
  };
}

/** Feeds the store's own reports (latency, retries) into the metrics. */
export function observeStore(store: ObjectStore, metrics: Metrics): () => void {
  return (
    store.observe?.({
      called: (operation, outcome, seconds) =>
        metrics.storeDuration.observe({ operation, outcome }, seconds),
      retried: (operation) => metrics.storeRetries.inc({ operation }),
    }) ?? (() => undefined)
  );
}
