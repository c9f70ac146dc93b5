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
  // What kept jest alive after the last file is closed (each file measured alone with
  // --forceExit=false): a HeldImageBuffers worker port ref-ed by its 'message' listener (held
  // for good), and GcsStore clean-ups of failed writes retrying for 5 minutes (harnesses now
  // settle their store). Still left: image-by-id.test's "store failing" case answers 503 while
  // sibling stats of findStoredImage go on retrying (up to STORE_TIMEOUT_MS), past the file's
  // teardown; without forceExit jest then fails that file ("import after the environment has
  // been torn down"). Until the route stops those calls with its answer, end the process.
  forceExit: true,
};
