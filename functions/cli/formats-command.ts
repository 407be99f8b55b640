/** `ls-export formats -c CONFIG`: the export formats a label config supports. */
import { readFile } from 'node:fs/promises';
import { FORMATS, supportedFormats } from '../core/config/formats.ts';
import { LabelConfigError, parseLabelConfig } from '../core/config/label-config.ts';
import { implementedFormats } from '../core/formats/registry.ts';
import { CliError } from './errors.ts';

export async function runFormats(configPath: string): Promise<void> {
  const text = await readFile(configPath, 'utf8').catch(() => {
    throw new CliError(`label config not found: ${configPath}`);
  });
  let supported: string[];
  try {
    supported = supportedFormats(parseLabelConfig(text));
  } catch (err) {
    if (err instanceof LabelConfigError) throw new CliError(`${configPath}: ${err.message}`);
    throw err;
  }
  const implemented = new Set<string>(implementedFormats());
  for (const f of FORMATS) {
    if (!supported.includes(f.name)) continue;
    const note = implemented.has(f.name) ? '' : '  (not implemented yet)';
    process.stdout.write(`${f.name.padEnd(22)} ${f.title}${note}\n`);
  }
}
