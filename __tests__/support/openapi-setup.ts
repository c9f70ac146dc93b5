import { afterEach } from '@jest/globals';
import { checkEveryApp, takeViolations } from './openapi-conformance.js';

// Every response an HTTP test provokes must be one the OpenAPI document describes.
checkEveryApp();

afterEach(() => {
  const violations = takeViolations();
  if (violations.length > 0) {
    throw new Error(`responses outside the OpenAPI document:\n${violations.join('\n')}`);
  }
});
