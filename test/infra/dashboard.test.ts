/**
 * Dashboard: one CloudWatch dashboard with the queues, dead-letter queues, functions, API, rebuilds
 * and the handlers' own metrics (namespace LsExport, dimension service=ls-export); optional.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { METRIC } from '../../functions/pipeline/metrics.ts';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../functions/runtime/observability.ts';
import { PIPELINE_NAMESPACE, PIPELINE_SERVICE } from '../../infra/constructs/dashboard.ts';
import { type Cfn, flat, logicalId, ofType, type Synth, synth } from './helpers.ts';

let s: Synth;
let body: { widgets: { properties: { title: string; metrics: Cfn[][] } }[] };
beforeAll(() => {
  s = synth({ apiAuth: 'token' });
  const [[, dash], ...more] = ofType(s, 'AWS::CloudWatch::Dashboard');
  expect(more).toHaveLength(0);
  body = JSON.parse(flat(dash.Properties.DashboardBody));
});

/** The metrics of the widget titled `title`: [namespace, name, ...dimension pairs]. */
function widget(title: string): string[][] {
  const w = body.widgets.find((x) => x.properties.title === title);
  expect(w, title).toBeDefined();
  return w!.properties.metrics.map((m) => m.filter((x) => typeof x === 'string') as string[]);
}

/** The values of dimension `name` in the metrics of a widget. */
const dimension = (metrics: string[][], name: string) =>
  metrics.filter((m) => m.indexOf(name) >= 2).map((m) => m[m.indexOf(name) + 1]);

describe('Dashboard', () => {
  it('queues: depth and oldest message of ingest, render, snapshot; the four dead-letter queues', () => {
    const depth = widget('Queue depth (visible messages)');
    expect(depth.map((m) => m[1])).toEqual(Array(3).fill('ApproximateNumberOfMessagesVisible'));
    const queueNames = Object.values(s.ls.queues).map((q) => `<${logicalId(s, q)}.QueueName>`);
    expect(dimension(depth, 'QueueName').sort()).toEqual(queueNames.sort());
    const age = widget('Oldest message age (s)');
    expect(dimension(age, 'QueueName').sort()).toEqual(queueNames.sort());
    expect(age.map((m) => m[1])).toEqual(Array(3).fill('ApproximateAgeOfOldestMessage'));
    const dlq = widget('Dead-letter queues (visible messages)');
    expect(dimension(dlq, 'QueueName').sort()).toEqual(
      s.ls.deadLetterQueues.map((q) => `<${logicalId(s, q)}.QueueName>`).sort(),
    );
  });

  it('errors, throttles and p99 duration of every function, the token authorizer included', () => {
    const fnRefs = [...Object.values(s.ls.functions).map((f) => f.fn), s.ls.api.tokenAuth!.function.fn].map(
      (f) => `<${logicalId(s, f)}>`,
    );
    for (const [title, metric] of [
      ['Function errors', 'Errors'],
      ['Function throttles', 'Throttles'],
      ['Function duration p99 (ms)', 'Duration'],
    ]) {
      const metrics = widget(title);
      expect(
        metrics.every((m) => m[0] === 'AWS/Lambda' && m[1] === metric),
        title,
      ).toBe(true);
      expect(dimension(metrics, 'FunctionName').sort(), title).toEqual(fnRefs.sort());
    }
  });

  it('API 5xx/4xx/count and latency; rebuild executions of each project', () => {
    const api = widget('API responses');
    expect(api.map((m) => m[1])).toEqual(['5xx', '4xx', 'Count']);
    expect(dimension(api, 'ApiId')).toEqual(Array(3).fill(`<${logicalId(s, s.ls.httpApi)}>`));
    expect(widget('API latency (ms)').map((m) => m[1])).toEqual(['Latency', 'Latency', 'IntegrationLatency']);
    const rebuild = widget('Rebuild executions');
    expect(rebuild).toHaveLength(4 * s.ls.stateMachines.size);
    expect(new Set(rebuild.map((m) => m[1]))).toEqual(
      new Set(['ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsFailed', 'ExecutionsTimedOut']),
    );
  });

  it('the handlers’ metrics, under the namespace and service the handlers write', () => {
    expect(PIPELINE_NAMESPACE).toBe(METRICS_NAMESPACE);
    expect(PIPELINE_SERVICE).toBe(SERVICE_NAME);
    const names = [
      ...widget('Tasks ingested / objects skipped'),
      ...widget('Renders'),
      ...widget('Skipped items / media refusals'),
    ];
    expect(names.map((m) => m[1])).toEqual([
      METRIC.TasksIngested,
      METRIC.ObjectsSkipped,
      METRIC.Renders,
      METRIC.SkippedItems,
      METRIC.MediaRefusals,
    ]);
    for (const m of names) {
      expect(m[0]).toBe('LsExport');
      expect(dimension([m], 'service')).toEqual(['ls-export']);
      expect(dimension([m], 'project')).toEqual([]);
    }
    const lag = widget('Render lag (s, change → published), max');
    expect(lag.map((m) => m[1])).toEqual(Array(2).fill(METRIC.RenderLagSeconds));
    expect(dimension(lag, 'project').sort()).toEqual(s.ls.layout.projects.map((p) => p.id).sort());
  });

  it('is output by name, and left out with dashboard: false', () => {
    expect(s.template.toJSON().Outputs.DashboardName.Value).toEqual({
      Ref: logicalId(s, s.ls.dashboard!.dashboard),
    });
    const none = synth({ dashboard: false });
    expect(ofType(none, 'AWS::CloudWatch::Dashboard')).toHaveLength(0);
    expect(none.ls.dashboard).toBeUndefined();
    expect(Object.keys(none.template.toJSON().Outputs)).not.toContain('DashboardName');
  });
});
