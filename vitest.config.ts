/**
 * Vitest projects, run together by `npm test` and by group with `npm run test:<name>`:
 * - `core` (test/core: the pure conversion engine) and `unit` (everything else that needs neither
 *   the local S3 server nor the CDK), both run by `npm run test:unit`. `core` runs its files in one
 *   process (isolate: false): starting a fresh worker per file cost 3× its tests' own time;
 * - `integration`: the files that talk to the local S3 server (fauxqs, started once by
 *   test/integration/global-setup.ts, which only this project runs) or start their own (the demo);
 * - `process`: tests that start the `ls-export` process itself (`*.process.test.ts`: the bin
 *   wrapper, Node 20, the real credential chain, EPIPE; 1.4–2.3 s a start). Other CLI tests run it
 *   in-process (test/helpers/cli.ts runCli);
 * - `infra`: CDK synthesis, cdk-nag and esbuild bundling (slow).
 * A new test that needs the server goes under test/integration/ or is named `*.int.test.ts`; one
 * that must start the CLI as a process is named `*.process.test.ts`.
 */
import { configDefaults, defineConfig } from 'vitest/config';

/** Test files that need the local S3 server (they import test/integration/helpers.ts). */
const SERVER_TESTS = [
  'test/integration/**/*.test.ts',
  'test/**/*.int.test.ts',
  'test/handlers/api.test.ts',
  'test/handlers/env.test.ts',
  'test/storage/s3-local.test.ts',
];
const INFRA_TESTS = ['test/infra/**/*.test.ts'];
/** Test files that start the CLI as a child process. */
const PROCESS_TESTS = ['test/**/*.process.test.ts'];
/** Pure tests (no mocks of shared clients, no environment changes) that may share one process. */
const CORE_TESTS = ['test/core/**/*.test.ts'];

// fauxqs 2 (node:sqlite) needs Node ≥ 22.5, and the functions run on Lambda's nodejs24.x.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 5)) {
  throw new Error(
    `The tests need Node ≥ 22.5 (Lambda runs Node 24), this is ${process.version}. Run them through npm ` +
      '(npm test, npm run test:unit, npx vitest …): on Linux `npm ci` installs Node 24 into ' +
      'node_modules/.bin, which npm puts first on the PATH. Elsewhere install Node 24.',
  );
}

export default defineConfig({
  test: {
    setupFiles: ['test/setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'core',
          include: CORE_TESTS,
          exclude: [...configDefaults.exclude, ...SERVER_TESTS],
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [
            ...configDefaults.exclude,
            ...SERVER_TESTS,
            ...INFRA_TESTS,
            ...CORE_TESTS,
            ...PROCESS_TESTS,
          ],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: SERVER_TESTS,
          globalSetup: ['test/integration/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: { name: 'process', include: PROCESS_TESTS },
      },
      {
        extends: true,
        test: { name: 'infra', include: INFRA_TESTS },
      },
    ],
  },
});
