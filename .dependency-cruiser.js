/**
 * `npm run lint:circles` (CI runs it before the tests): no import circles, and no import from
 * a lower layer into a higher one (docs/architecture.md: http on top, ingest and uploads in
 * the middle, images beside them, storage at the bottom). Type-only imports count: a circle of
 * types is the same tangle of design.
 * @type {import('dependency-cruiser').IConfiguration}
 */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Files that import each other: move what both need into a module below them.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'storage-imports-no-higher-layer',
      severity: 'error',
      comment: 'src/storage is the ground floor: it knows no pipeline, upload protocol or HTTP.',
      from: { path: '^src/storage/' },
      to: { path: '^src/(http|ingest|uploads|images)/' },
    },
    {
      name: 'middle-imports-no-http',
      severity: 'error',
      comment: 'The pipeline, uploads and images know nothing of Koa or the routes.',
      from: { path: '^src/(ingest|uploads|images)/' },
      to: { path: '^src/(http/|index\\.ts$)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
