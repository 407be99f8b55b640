/**
 * DeployedConfig: the validated configuration written once at deploy time; every function waits for it and may read exactly it (and the label configs it names).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { FunctionName } from '../../infra/ls-export-stack.ts';
import {
  asArray,
  EXPORT,
  FULL_PROPS,
  flat,
  fnId as fnIdOf,
  ofType,
  type Resource,
  roleId as roleIdOf,
  roleStatements,
  type Synth,
  s3Arn,
  synth,
} from './helpers.ts';

const FUNCTIONS: FunctionName[] = ['ingest', 'render', 'snapshot', 'rebuildBatch', 'rebuildMerge', 'api'];

let s: Synth;
beforeAll(() => {
  s = synth(FULL_PROPS);
});

const fnId = (name: FunctionName) => fnIdOf(s, name);
const roleId = (name: FunctionName) => roleIdOf(s, name);
const resource = (id: string): Resource => s.json.Resources[id];

describe('deployed configuration', () => {
  it('wait for the deployed config object', () => {
    const cfg = ofType(s, 'Custom::AWS');
    expect(cfg).toHaveLength(1);
    const [cfgId, cfgRes] = cfg[0];
    for (const name of FUNCTIONS) expect(resource(fnId(name)).DependsOn).toContain(cfgId);
    const create = JSON.parse(flat(cfgRes.Properties.Create));
    expect(create).toMatchObject({ service: 'S3', action: 'putObject' });
    expect(create.parameters.Key).toBe('_ls-export/config.json');
    expect(JSON.parse(create.parameters.Body).projects.map((p: { id: string }) => p.id)).toEqual([
      'news-ner',
      'street-scenes',
    ]);
  });

  it('lets each function read the config object and the label config it references, nothing more', () => {
    for (const name of FUNCTIONS) {
      const [read] = roleStatements(s, roleId(name)).filter((st) => st.Sid === 'ReadConfig');
      expect(asArray(read.Resource).map(flat)).toEqual([
        s3Arn(`${EXPORT}/_ls-export/config.json`),
        s3Arn(`${EXPORT}/label-configs/street-scenes.xml`),
      ]);
    }
    expect(s.ls.config.environment.LS_EXPORT_CONFIG_S3).toBe(`s3://${EXPORT}/_ls-export/config.json`);
  });
});
