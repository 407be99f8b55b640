/**
 * CDK app entry (cdk.json: `node bin/run-ts.mjs infra/app.ts`). Everything comes from CDK context,
 * given with `-c name=value` on the command line or in cdk.json; see README "Deploy to AWS" for the list.
 *
 *   npx cdk deploy -c config=deploy/my-config.json -c alarmEmail=ops@example.com \
 *     -c nightlyCron="15 2 * * ? *" -c nightlyTimeZone=Europe/Berlin
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError } from '../functions/pipeline/config.ts';
import { stackPropsFromContext } from './context.ts';
import { LsExportStack } from './ls-export-stack.ts';

const app = new App();
const get = (name: string): unknown => app.node.tryGetContext(name);

try {
  const configPath = get('config');
  if (typeof configPath !== 'string' || configPath === '') {
    throw new ConfigError(
      'no configuration: pass -c config=path/to/config.json (see README "Deploy to AWS")',
    );
  }
  if (resolve(configPath) === resolve('samples/deploy-config.example.json')) {
    console.error(
      'ls-export: using the example configuration (fictitious buckets); deploy with -c config=path/to/your-config.json',
    );
  }
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(resolve(configPath), 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read the configuration ${configPath}: ${(err as Error).message}`);
  }
  const stackName = typeof get('stackName') === 'string' ? (get('stackName') as string) : 'LsExport';
  new LsExportStack(app, stackName, { ...stackPropsFromContext(get), config });
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`ls-export: ${err.message}`);
    process.exit(1);
  }
  throw err;
}

// cdk-nag (AwsSolutions) runs on every synth; unacknowledged findings fail it. `-c nag=false` skips it.
if (get('nag') !== false && get('nag') !== 'false') {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
}
