/** The configured project an id, a Label Studio project id or a route names. */
import type { ProjectConfig } from './config.ts';
import type { PipelineContext } from './context.ts';
import { UnknownProjectError } from './errors.ts';
import { findProject } from './paths.ts';

/** The project `ref` names (our id, or Label Studio's numeric id); throws UnknownProjectError. */
export function requireProject(ctx: PipelineContext, ref: string): ProjectConfig {
  const p = findProject(ctx.config, ref);
  if (!p) throw new UnknownProjectError(`project "${ref}"`);
  return p;
}
