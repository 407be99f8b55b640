/**
 * Logs, metrics and traces of the Lambda handlers with Powertools for AWS Lambda: one Logger
 * (JSON lines with the Lambda context), one Metrics (CloudWatch EMF, namespace `LsExport`) and one
 * Tracer (X-Ray; the S3 client is captured) per cold start. The pipeline only sees its ports
 * (`PipelineContext.log` and `.metrics`), implemented here; the middy middlewares Powertools ships
 * do the per-invocation work. Log level: `LS_EXPORT_LOG_LEVEL`, else Powertools'
 * `POWERTOOLS_LOG_LEVEL`, else `info`.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { MiddlewareObj } from '@middy/core';
import type { LogLevel, MetricsPort, PipelineContext } from '../pipeline/context.ts';

/** The `service` of every log line and metric (unless `POWERTOOLS_SERVICE_NAME` is set). */
export const SERVICE_NAME = 'ls-export';
/** The CloudWatch namespace of the metrics. */
export const METRICS_NAMESPACE = 'LsExport';

export interface Observability {
  logger: Logger;
  metrics: Metrics;
  tracer: Tracer;
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** `LS_EXPORT_LOG_LEVEL` when it is one of debug/info/warn/error (the env contract), else undefined. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv): LogLevel | undefined {
  const v = env.LS_EXPORT_LOG_LEVEL;
  return LEVELS.includes(v as LogLevel) ? (v as LogLevel) : undefined;
}

/**
 * New Powertools instances. An explicit `LS_EXPORT_LOG_LEVEL` wins over `POWERTOOLS_LOG_LEVEL`
 * (which Powertools reads itself when the former is unset). Tracing is active only inside Lambda.
 */
export function createObservability(env: NodeJS.ProcessEnv = process.env): Observability {
  const serviceName = env.POWERTOOLS_SERVICE_NAME || SERVICE_NAME;
  const level = logLevelFromEnv(env);
  const logger = new Logger({ serviceName, ...(level ? { logLevel: level.toUpperCase() as 'INFO' } : {}) });
  return {
    logger,
    // Its own warnings (e.g. an invalid dimension) become JSON log lines too.
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName, logger }),
    tracer: new Tracer({ serviceName }),
  };
}

let shared: Observability | undefined;

/** The instances of this cold start (the handlers' default). */
export function defaultObservability(): Observability {
  shared ??= createObservability();
  return shared;
}

/** The pipeline's log port over a Powertools Logger (fields become top-level JSON keys). */
export function powertoolsLog(logger: Logger): PipelineContext['log'] {
  return (level, message, fields) => {
    if (fields) logger[level](message, fields);
    else logger[level](message);
  };
}

/**
 * The pipeline's metrics port over Powertools Metrics: a value without dimensions is stored and
 * flushed at the end of the invocation (logMetrics) in one EMF line; a value with dimensions is
 * written at once as its own EMF line with those dimensions (plus `service`).
 */
export function powertoolsMetrics(metrics: Metrics): MetricsPort {
  return {
    add(name, unit, value, dimensions) {
      if (!dimensions || Object.keys(dimensions).length === 0) {
        metrics.addMetric(name, unit, value);
        return;
      }
      const single = metrics.singleMetric();
      for (const [k, v] of Object.entries(dimensions)) single.addDimension(k, v);
      single.addMetric(name, unit, value);
    },
  };
}

/** The count (1, dimension `service` only) each wrapped handler adds per invocation. */
export const INVOCATIONS_METRIC = 'Invocations';

export interface ObserveOptions<E> {
  /** Keys added to every log line of the invocation (e.g. the API request id as `correlation_id`). */
  keys?: (event: E) => Record<string, string | number | undefined>;
}

/**
 * The Powertools middlewares of one handler, outermost first: the X-Ray subsegment of the
 * invocation (`captureLambdaHandler`, response not recorded), the Lambda context in every log line
 * (`injectLambdaContext`, keys reset after each invocation), the EMF flush (`logMetrics`, with the
 * ColdStart metric), and one `Invocations` count per invocation. That count makes every flush
 * non-empty, so Powertools' "No application metrics to publish" warning (one per invocation of a
 * handler whose metrics all carry dimensions, written at once) is not printed; its other warnings
 * (invalid dimensions or metrics) still are.
 */
export function observabilityMiddlewares<E>(
  obs: Observability,
  options: ObserveOptions<E> = {},
): MiddlewareObj<E>[] {
  const keys: MiddlewareObj<E> = {
    before: (request) => {
      if (!options.keys) return;
      const extra = Object.fromEntries(
        Object.entries(options.keys(request.event)).filter(([, v]) => v !== undefined),
      );
      if (Object.keys(extra).length) obs.logger.appendKeys(extra);
    },
  };
  // Added just before logMetrics flushes (after hooks run in reverse order): invocations that
  // share the instance concurrently (tests; never Lambda) each flush their own count.
  const count = () => {
    obs.metrics.addMetric(INVOCATIONS_METRIC, 'Count', 1);
  };
  const invocations: MiddlewareObj<E> = { after: count, onError: count };
  return [
    captureLambdaHandler(obs.tracer, { captureResponse: false }) as MiddlewareObj<E>,
    injectLambdaContext(obs.logger, { resetKeys: true }) as MiddlewareObj<E>,
    keys,
    logMetrics(obs.metrics, { captureColdStartMetric: true }) as MiddlewareObj<E>,
    invocations,
  ];
}
