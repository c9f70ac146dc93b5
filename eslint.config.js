import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'clients/typescript/dist/',
      'clients/typescript/scripts/*.d.mts',
      'coverage/',
      '.tools/',
      'node_modules/',
      'uploads/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message:
            'Read configuration through loadConfig(); only src/index.ts touches process.env.',
        },
      ],
    },
  },
  {
    // Routers match paths exactly (src/http/router.ts), as the guard reads them.
    files: ['src/**/*.ts'],
    ignores: ['src/http/router.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Router']",
          message:
            'Make routers with createRouter() (src/http/router.ts), which matches paths exactly.',
        },
      ],
    },
  },
  {
    files: [
      'src/index.ts',
      'src/forget-uploaders.ts',
      '__tests__/**',
      'scripts/**',
      'bench/**',
      '*.config.js',
    ],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // The upload page runs in the browser.
    files: ['public/**/*.js'],
    languageOptions: { globals: globals.browser },
  },
  prettier,
);
