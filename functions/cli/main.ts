/**
 * `ls-export`: convert Label Studio exports and target-storage objects on one machine.
 * Usage errors and unreadable inputs end with one clear sentence and a non-zero status; skipped
 * inputs are reported in report.json and do not fail the run.
 */
import { type FormatRegistry, REGISTRY } from '../core/formats/registry.ts';
import { type CommandLineValues, convertArgs, parseCommandLine } from './args.ts';
import { CliError, UsageError } from './errors.ts';
import { helpText } from './help.ts';

/**
 * Runs one command; resolves to the exit status. `registry`: the export formats offered (the
 * built-in ones; tests pass their own).
 */
export async function main(argv: string[], registry: FormatRegistry = REGISTRY): Promise<number> {
  try {
    // `sync` has options of its own (functions/cli/sync.ts parses them).
    const { values, positionals } =
      argv[0] === 'sync'
        ? { values: {} as CommandLineValues, positionals: ['sync'] }
        : parseCommandLine(argv, registry);
    const [command] = positionals;
    if (values.help || command === 'help' || !command) {
      process.stdout.write(helpText(registry));
      return command || values.help ? 0 : 2;
    }
    switch (command) {
      case 'convert':
      case 'export':
        // Commands load their modules when run, so `--help` and the others start without them.
        await (await import('./convert.ts')).runConvert(convertArgs(values, registry), registry);
        return 0;
      case 'formats':
        if (typeof values.config !== 'string')
          throw new UsageError('missing -c/--config (the project label config XML)');
        await (await import('./formats-command.ts')).runFormats(values.config, registry);
        return 0;
      case 'sync': {
        if (argv.includes('--help') || argv.includes('-h')) {
          process.stdout.write(helpText(registry));
          return 0;
        }
        const { runSync, syncArgs } = await import('./sync.ts');
        await runSync(syncArgs(argv.slice(1)));
        return 0;
      }
      case 'demo': {
        const { runDemo } = await import('./demo.ts');
        await runDemo();
        return 0;
      }
      default:
        throw new UsageError(`unknown command "${command}" (try: convert, formats, sync, demo)`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`ls-export: ${err.message}\nRun "ls-export --help" for usage.\n`);
      return 2;
    }
    if (err instanceof CliError) {
      process.stderr.write(`ls-export: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(
      `ls-export: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return 1;
  }
}
