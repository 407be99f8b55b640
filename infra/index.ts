/**
 * The ls-export CDK constructs, for use in your own CDK app:
 *
 *   import { LsExport } from 'ls-export/infra';
 *   const ls = new LsExport(stack, 'LsExport', { config: JSON.parse(readFileSync('ls-export.json', 'utf8')) });
 *   ls.grantReadExports(trainingRole, 'news-ner');
 *
 * `LsExportStack` is the stack the bundled app (infra/app.ts) deploys.
 */
export { Alarms, type AlarmsProps } from './constructs/alarms.ts';
export { ApiTokenAuth, type ApiTokenAuthProps } from './constructs/api-token-auth.ts';
export { Dashboard, type DashboardProps } from './constructs/dashboard.ts';
export { DeployedConfig, type DeployedConfigProps } from './constructs/deployed-config.ts';
export { EventIngest, type EventIngestProps } from './constructs/event-ingest.ts';
export { type ApiAuth, ExportApi, type ExportApiProps } from './constructs/export-api.ts';
export { ExportStorage, type ExportStorageProps } from './constructs/export-storage.ts';
export {
  DEFAULT_CONFIG_KEY,
  type FunctionName,
  LsExport,
  type LsExportProps,
} from './constructs/ls-export.ts';
export {
  ProjectRebuild,
  type ProjectRebuildProps,
  type RebuildTuning,
} from './constructs/project-rebuild.ts';
export { QueueConsumer, type QueueConsumerProps } from './constructs/queue-consumer.ts';
export { Render, type RenderProps } from './constructs/render.ts';
export type { FunctionTuning, QueueConsumerTuning } from './constructs/shared.ts';
export { Snapshots, type SnapshotsProps } from './constructs/snapshots.ts';
export { LsExportStack, type LsExportStackProps } from './ls-export-stack.ts';
export { checkMediaConfinement, type MediaLocation, mediaLocations } from './media.ts';
