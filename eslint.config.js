// npm run lint (with tsc and the folder-cycle check). A small rule set on purpose: typescript-eslint's
// recommended rules, plus the few below; each says why. README "Development" lists them.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.data/', 'coverage/', '**/*.cjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      // `==` coerces; `===` everywhere except the deliberate `== null` (null or undefined).
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // Type-only imports are erased at runtime (Node's type stripping needs them marked).
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      // A `let` declared before the closures that read it and assigned once later is deliberate.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // Unused bindings are dead code; a leading underscore marks the deliberate ones.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrors: 'none' }],
      // process.env is read in src/config, src/main.ts and the CLI only (developers' guide).
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'read settings through src/config' }],
    },
  },
  {
    // chai's property assertions (`.to.be.empty`) and loosely typed fixtures.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-unused-expressions': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Change notices go through the change channel, which returns once Redis has handed them to
    // every instance and retries what Redis did not take (docs/STORAGE.md, *Change notices*); a
    // Redis PUBLISH (two arguments: channel, message) anywhere else skips both.
    files: ['src/**/*.ts'],
    ignores: ['src/cache/change-channel.ts'],
    rules: {
      'no-restricted-syntax': ['error', { selector: "CallExpression[callee.property.name='publish'][arguments.length=2]", message: 'publish change notices through createChangeChannel (src/cache/change-channel.ts)' }],
    },
  },
  {
    files: ['src/config/**', 'src/main.ts', 'src/cli/**', 'test/**', 'bench/**', 'scripts/**', 'examples/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
);
