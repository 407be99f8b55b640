/**
 * Everything the pipeline needs from the outside world, passed in explicitly: the validated
 * configuration, object stores by bucket, the clock, and a logger. Handlers build one per cold
 * start from the environment; the CLI, the demo and the tests build their own.
 */
import type { MediaAccess } from '../core/media.ts';
import type { ObjectStore } from '../storage/types.ts';
import type { PipelineConfig, ProjectConfig } from './config.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface PipelineContext {
  readonly config: PipelineConfig;
  /** The object store of a bucket. */
  store(bucket: string): ObjectStore;
  now(): Date;
  /** Waits between retries (tests make it instant). */
  sleep(ms: number): Promise<void>;
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
  /** The media access of one export run (default: the project's media policy, pipeline/media.ts). */
  media?(project: ProjectConfig): MediaAccess | undefined;
  /** Random numbers for retry jitter and ids (tests can fix it). */
  random?(): number;
}

/** A JSON-lines logger for Lambda (CloudWatch) or a silent one. */
export function jsonLogger(minLevel: LogLevel = 'info'): PipelineContext['log'] {
  const order: LogLevel[] = ['debug', 'info', 'warn', 'error'];
  return (level, message, fields) => {
    if (order.indexOf(level) < order.indexOf(minLevel)) return;
    const line = JSON.stringify({ level, message, ...fields });
    if (level === 'error' || level === 'warn') console.error(line);
    else console.log(line);
  };
}

export const silentLogger: PipelineContext['log'] = () => {};

export const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
