/**
 * Starts one in-process fauxqs S3 server on 127.0.0.1 (port 0) for the whole test run and hands its
 * port to the tests (`inject('s3Port')`). Test files use their own bucket names.
 */
import { startFauxqs } from 'fauxqs';
import type { TestProject } from 'vitest/node';

let stop: (() => Promise<void>) | undefined;

export async function setup(project: TestProject): Promise<void> {
  const server = await startFauxqs({ port: 0, logger: false });
  stop = () => server.stop();
  project.provide('s3Port', server.port);
}

export async function teardown(): Promise<void> {
  await stop?.();
}

declare module 'vitest' {
  export interface ProvidedContext {
    s3Port: number;
  }
}
