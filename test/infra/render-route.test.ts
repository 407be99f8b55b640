/**
 * Routing of large renders (Render.routeTo) and snapshots (Snapshots.routeTo): the render and
 * snapshot functions get each project's render state machine ARN and the threshold in their
 * environment, may start executions of exactly those state machines (no other function may), and
 * the stack outputs their ARNs; the context key sets the threshold.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { stackPropsFromContext } from '../../infra/context.ts';
import {
  asArray,
  FULL_PROPS,
  flat,
  fnId,
  logicalId,
  roleId,
  roleStatements,
  type Synth,
  synth,
} from './helpers.ts';

let s: Synth;
beforeAll(() => {
  s = synth(FULL_PROPS);
});

const env = (x: Synth, name: 'render' | 'snapshot' = 'render') =>
  x.json.Resources[fnId(x, name)].Properties.Environment.Variables;
const smIds = (x: Synth) =>
  Object.fromEntries([...x.ls.renderFanout.stateMachines].map(([id, sm]) => [id, `<${logicalId(x, sm)}>`]));

describe('render routing (infra)', () => {
  it('passes every project state machine ARN, by project id, and the default threshold 20', () => {
    const e = env(s);
    expect(JSON.parse(flat(e.LS_EXPORT_RENDER_STATE_MACHINES))).toEqual(smIds(s));
    expect(Object.keys(smIds(s)).sort()).toEqual(['news-ner', 'street-scenes']);
    expect(e.LS_EXPORT_RENDER_FANOUT_SEGMENTS).toBe('20');
  });

  it('the snapshot function gets the same ARNs and threshold (large snapshots fan out)', () => {
    const e = env(s, 'snapshot');
    expect(JSON.parse(flat(e.LS_EXPORT_RENDER_STATE_MACHINES))).toEqual(smIds(s));
    expect(e.LS_EXPORT_RENDER_FANOUT_SEGMENTS).toBe('20');
    expect(
      env(synth({ ...FULL_PROPS, renderFanout: { fanoutSegments: 7 } }), 'snapshot')
        .LS_EXPORT_RENDER_FANOUT_SEGMENTS,
    ).toBe('7');
  });

  it('grants states:StartExecution on exactly those state machines and no other Step Functions action', () => {
    for (const name of ['render', 'snapshot'] as const) {
      const states = roleStatements(s, roleId(s, name)).filter((st) =>
        asArray(st.Action).some((a) => a.startsWith('states:')),
      );
      expect(
        states.flatMap((st) => asArray(st.Action)),
        name,
      ).toEqual(['states:StartExecution']);
      expect(states.flatMap((st) => asArray(st.Resource).map(flat)).sort(), name).toEqual(
        Object.values(smIds(s)).sort(),
      );
    }
  });

  it('no other pipeline function may start a render state machine', () => {
    const arns = new Set(Object.values(smIds(s)));
    for (const name of Object.keys(s.ls.functions) as Array<keyof typeof s.ls.functions>) {
      if (name === 'render' || name === 'snapshot') continue;
      const starts = roleStatements(s, roleId(s, name)).filter(
        (st) =>
          asArray(st.Action).includes('states:StartExecution') &&
          asArray(st.Resource).some((r) => arns.has(flat(r))),
      );
      expect(starts, name).toEqual([]);
    }
  });

  it('outputs RenderFanoutStateMachine<project> with each ARN', () => {
    const outputs = (s.template.toJSON() as { Outputs: Record<string, { Value: unknown }> }).Outputs;
    const ours = Object.entries(outputs).filter(([k]) => k.startsWith('RenderFanoutStateMachine'));
    expect(ours.map(([, o]) => flat(o.Value)).sort()).toEqual(Object.values(smIds(s)).sort());
    expect(ours.map(([k]) => k).sort()).toEqual([
      'RenderFanoutStateMachinenewsner',
      'RenderFanoutStateMachinestreetscenes',
    ]);
  });

  it('context renderFanoutSegments sets the threshold; below 1 is refused', () => {
    const props = stackPropsFromContext((n) => ({ renderFanoutSegments: '50' })[n as string]);
    expect(props.renderFanout?.fanoutSegments).toBe(50);
    expect(
      env(synth({ ...FULL_PROPS, renderFanout: { fanoutSegments: 50 } })).LS_EXPORT_RENDER_FANOUT_SEGMENTS,
    ).toBe('50');
    expect(() => synth({ renderFanout: { fanoutSegments: 0 } })).toThrow(
      /renderFanoutSegments must be an integer >= 1/,
    );
  });
});
