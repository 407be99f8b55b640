/**
 * The pipeline's log lines as the CLI prints them (`ls-export sync`): one human line each on the
 * CLI's message stream, not JSON. Warnings and errors only; with `-q` errors only. Info and debug
 * lines are dropped (sync prints its own progress lines).
 */
import type { PipelineContext } from '../pipeline/context.ts';

/** One field value on one line: strings as they are, other values as JSON; newlines folded. */
function fieldText(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return text.replace(/\s*\n\s*/g, ' ');
}

/**
 * A PipelineContext `log` writing `ls-export: WARNING: <message> (<field>: <value>, …)` (ERROR for
 * errors) through `write` (one line, without its newline). `quiet`: errors only.
 */
export function cliPipelineLog(quiet: boolean, write: (line: string) => void): PipelineContext['log'] {
  return (level, message, fields) => {
    if (level !== 'error' && (quiet || level !== 'warn')) return;
    const details = Object.entries(fields ?? {})
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}: ${fieldText(v)}`)
      .join(', ');
    write(
      `ls-export: ${level === 'error' ? 'ERROR' : 'WARNING'}: ${message}${details ? ` (${details})` : ''}`,
    );
  };
}
