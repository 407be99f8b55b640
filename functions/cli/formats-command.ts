/** `ls-export formats -c CONFIG`: the export formats a label config supports. */
import { readFile } from 'node:fs/promises';
import { LabelConfigError, parseLabelConfig } from '../core/config/label-config.ts';
import { type FormatRegistry, REGISTRY } from '../core/formats/registry.ts';
import { CliError } from './errors.ts';

/** Prints `NAME  Title` per format of `registry` the config supports; CliError for a bad config. */
export async function runFormats(configPath: string, registry: FormatRegistry = REGISTRY): Promise<void> {
  const text = await readFile(configPath, 'utf8').catch(() => {
    throw new CliError(`label config not found: ${configPath}`);
  });
  let supported: string[];
  try {
    supported = registry.supported(parseLabelConfig(text));
  } catch (err) {
    if (err instanceof LabelConfigError) throw new CliError(`${configPath}: ${err.message}`);
    throw err;
  }
  for (const f of registry.plugins) {
    if (!supported.includes(f.name)) continue;
    const note = f.writer ? '' : '  (not implemented yet)';
    process.stdout.write(`${f.name.padEnd(22)} ${f.title}${note}\n`);
  }
}
