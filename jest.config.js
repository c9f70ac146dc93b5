/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  // Sources import each other with the ".js" suffix NodeNext requires; jest resolves the .ts.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  globalSetup: '<rootDir>/__tests__/support/global-setup.ts',
  globalTeardown: '<rootDir>/__tests__/support/global-teardown.ts',
  // Checks every response the tests' apps send against the OpenAPI document.
  setupFilesAfterEnv: ['<rootDir>/__tests__/support/openapi-setup.ts'],
  testTimeout: 30_000,
  // No forceExit: the suite ends by itself. What kept jest alive before (found with
  // --forceExit=false, in band, one directory at a time, and the inspector's
  // process._getActiveHandles on the hung process): a HeldImageBuffers worker port ref-ed by
  // its 'message' listener; GcsStore clean-ups of failed writes retrying for 5 minutes
  // (harnesses settle their store); the HEIF decoder's workers (unref before their 'message'
  // listener, stdout read by the pool); image-by-id's 503 leaving sibling stats of
  // findStoredImage retrying past the file's teardown (findEarlierObject now stops and awaits
  // them). A new leak shows as a run that does not end: find it the same way.
};
