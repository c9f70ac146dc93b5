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
  // With 2 cores jest runs the files in its own process, and after the last one something
  // keeps that process alive with no socket, child or handle --detectOpenHandles can name (seen
  // in CI only; a known gap, see the closing note). Every test has passed by then: end it.
  forceExit: true,
};
