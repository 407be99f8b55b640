/** `ls-export formats -c CONFIG`: the export formats a label config supports. */
import { readFile } from 'node:fs/promises';
import { LabelConfigError, parseLabelConfig } from '../core/config/label-config.ts';
import { type FormatRegistry, REGISTRY } from '../core/formats/registry.ts';
import { CliError, labelConfigInputError } from './errors.ts';

/** Prints `NAME  Title` per format of `registry` the config supports; CliError for a missing config, InputError for an invalid one. */
export async function runFormats(configPath: string, registry: FormatRegistry = REGISTRY): Promise<void> {
  const text = await readFile(configPath, 'utf8').catch(() => {
    throw new CliError(`label config not found: ${configPath}`);
  });
  let supported: string[];
  let empty: Map<string, string>;
  try {
    const support = registry.support(parseLabelConfig(text));
    supported = support.filter((s) => s.supported).map((s) => s.name);
    // Offered as Label Studio offers them, but marked when they can only produce empty output.
    empty = new Map(support.flatMap((s) => (s.emptyOutputWarning ? [[s.name, s.emptyOutputWarning]] : [])));
  } catch (err) {
    if (err instanceof LabelConfigError) throw labelConfigInputError(configPath, err.message);
    throw err;
  }
  for (const f of registry.plugins) {
    if (!supported.includes(f.name)) continue;
    const emptyNote = empty.has(f.name) ? `  (empty output for this config: ${empty.get(f.name)})` : '';
    const note = f.writer ? emptyNote : '  (not implemented yet)';
    process.stdout.write(`${f.name.padEnd(22)} ${f.title}${note}\n`);
  }
}
