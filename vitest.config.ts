/**
 * Vitest projects, run together by `npm test` and by group with `npm run test:<name>`:
 * - `core` (test/core: the pure conversion engine), `unit` and `unit-isolated` (everything else
 *   that needs neither the local S3 server nor the CDK), run by `npm run test:unit`. `core` and
 *   `unit` share each worker's modules between files (isolate: false): starting a fresh worker per
 *   file cost 3× the tests' own time; `unit-isolated` holds the files that mock or change process
 *   state;
 * - `integration`: the files that talk to the local S3 server (fauxqs, started once by
 *   test/integration/global-setup.ts, which only this project runs) or start their own (the demo);
 * - `slow`: tests that take seconds each, kept out of the fast loop: those that start the
 *   `ls-export` process itself (`*.process.test.ts`: the bin wrapper, Node 20, the real credential
 *   chain, EPIPE; 1.4–2.3 s a start; other CLI tests run it in-process, test/helpers/cli.ts
 *   runCli) and the property/scale tests listed in SLOW_TESTS;
 * - `infra`: CDK synthesis, cdk-nag and esbuild bundling (slow).
 * A new test that needs the server goes under test/integration/ or is named `*.int.test.ts`; one
 * that must start the CLI as a process is named `*.process.test.ts`.
 */
import { availableParallelism } from 'node:os';
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
/**
 * Test files of the `slow` project: those that start the CLI as a child process, and
 * render-segments (random add/update/delete rounds over a filesystem store, 120 tasks, and the
 * 200-vs-2,000-task request count: 15–25 s alone, most of `test:unit`'s time before it moved), and
 * the hostile-task fuzz (test/sec/hostile-fuzz.test.ts: 14 CLI runs over every format, 15–21 s), and
 * snapshots by segments against the one-pass snapshot (six projects, every format, several options
 * each: 30–60 s), and the QA campaigns.
 */
const SLOW_TESTS = [
  'test/**/*.process.test.ts',
  'test/pipeline/render-segments.test.ts',
  'test/sec/hostile-fuzz.test.ts',
  'test/pipeline/snapshot-segments.test.ts',
  // QA campaign: 8 projects × every format × 4 renders, in-process and fan-out (minutes).
  'test/pipeline/incremental-campaign.test.ts',
  // QA: unseen projects and change sequences (incremental-unseen.test.ts header; minutes).
  'test/pipeline/incremental-unseen.test.ts',
  // QA of latest/<FORMAT>.zip: random change sequences and a 65,600-entry archive (30–55 s).
  'test/pipeline/latest-zip-qa.test.ts',
];
/** Pure tests (no mocks of shared clients, no environment changes) that may share one process. */
const CORE_TESTS = ['test/core/**/*.test.ts'];
/**
 * Unit test files that mock shared clients (aws-sdk-client-mock), spy on process streams or change
 * process.env: each in a fresh process (project `unit-isolated`). The other unit files share their
 * workers' module caches (isolate: false), as `core` does: importing the pipeline and the SDK again
 * for every file was a third of `test:unit`'s time.
 */
const ISOLATED_UNIT_TESTS = [
  'test/cli/converter-compat.test.ts',
  'test/cli/errors.test.ts',
  'test/cli/issue11-cases.test.ts',
  // vi.mock of core/json/limits.ts (a small element size limit) must not leak into other files.
  'test/cli/qa-report-fixes.test.ts',
  'test/handlers/observability.test.ts',
  'test/sec/media-leak.test.ts',
  'test/storage/s3-retries.test.ts',
  'test/storage/secrets-manager.test.ts',
  // vi.mock('node:fs') (a spy on renameSync) must reach storage/fs.ts: a fresh module cache.
  'test/storage/fs-in-place.test.ts',
];
const UNIT_EXCLUDE = [...configDefaults.exclude, ...SERVER_TESTS, ...INFRA_TESTS, ...CORE_TESTS];

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
    // Generous bounds, not speed targets: on a loaded 2-vCPU machine the CDK synth hooks (every Lambda
    // bundled by esbuild) and the fauxqs round trips took over 60 s and failed a clean `npm test`.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than the CPUs: a single worker on a 2-CPU machine.
    maxWorkers: Math.max(2, availableParallelism() - 1),
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
          exclude: [...UNIT_EXCLUDE, ...SLOW_TESTS, ...ISOLATED_UNIT_TESTS],
          isolate: false,
        },
      },
      {
        extends: true,
        test: { name: 'unit-isolated', include: ISOLATED_UNIT_TESTS, exclude: SLOW_TESTS },
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
        test: { name: 'slow', include: SLOW_TESTS },
      },
      {
        extends: true,
        test: { name: 'infra', include: INFRA_TESTS },
      },
    ],
  },
});
