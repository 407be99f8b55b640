/**
 * `ls-export`: convert Label Studio exports and target-storage objects on one machine.
 * Usage errors and unreadable inputs end with one clear sentence and a non-zero status (S3 errors
 * too: errors.ts describeError); skipped inputs are reported in report.json and do not fail the
 * run. Stack traces only with --debug.
 */
import { type FormatRegistry, REGISTRY } from '../core/formats/registry.ts';
import { type CommandLineValues, convertArgs, parseCommandLine } from './args.ts';
import { CliError, describeError, InputError, UsageError } from './errors.ts';
import { COMMANDS, type Command, commandHelp, helpText } from './help.ts';
import { terminalSafe } from './terminal.ts';
import { cliVersion } from './version.ts';

const isCommand = (s: string | undefined): s is Command => COMMANDS.includes(s as Command);

/**
 * Where `main` writes its own lines (usage, help, --version, the error sentence). The process's
 * streams by default (processIo); tests pass collectors (test/helpers/cli.ts runCli). The commands'
 * modules (convert, formats, sync, demo) still write to process.stdout/stderr themselves.
 */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** Streams endQuietlyOnEpipe already guards. */
const guarded = new WeakSet<NodeJS.EventEmitter>();

/**
 * A reader that closed stdout or stderr early (`ls-export formats … | head`) ends that output quietly: the
 * stream's EPIPE error (and a later write's ERR_STREAM_DESTROYED) is swallowed instead of crashing the process with
 * an unhandled 'error' event; the command finishes with its own status. Other stream errors are
 * rethrown. Installed once per stream.
 */
export function endQuietlyOnEpipe(stream: NodeJS.EventEmitter): void {
  if (guarded.has(stream)) return;
  guarded.add(stream);
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
  });
}

/**
 * The process's own stdout and stderr; each ends quietly when its reader goes away (`… 2>&1 | head -1`),
 * so the exit status reflects the work, not the closed pipe.
 */
export function processIo(): CliIo {
  endQuietlyOnEpipe(process.stdout);
  endQuietlyOnEpipe(process.stderr);
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(terminalSafe(text)),
  };
}

/** The command's name (`export` is convert's alias). */
const canonical = (command: string | undefined) => (command === 'export' ? 'convert' : command);

/**
 * Runs one command; resolves to the exit status (0 done, 1 failed, 2 usage or input error: InputError), never calls
 * process.exit. `registry`: the export formats offered (the built-in ones; tests pass their own).
 * `io`: where main's own lines go (processIo by default).
 */
export async function main(
  argv: string[],
  registry: FormatRegistry = REGISTRY,
  io: CliIo = processIo(),
): Promise<number> {
  const debug = argv.includes('--debug');
  let endpoint: string | undefined;
  try {
    const first = canonical(argv[0]);
    // `sync` has options of its own (functions/cli/sync.ts parses them).
    const { values, positionals } =
      first === 'sync'
        ? { values: {} as CommandLineValues, positionals: ['sync'] }
        : parseCommandLine(argv, registry);
    const command = canonical(positionals[0]);
    endpoint = typeof values.endpoint === 'string' ? values.endpoint : process.env.AWS_ENDPOINT_URL_S3;
    if (values.version || (first === 'sync' && argv.includes('--version'))) {
      io.stdout(`ls-export ${cliVersion()}\n`);
      return 0;
    }
    const wantsHelp = values.help || (first === 'sync' && (argv.includes('--help') || argv.includes('-h')));
    if (command === 'help') {
      const topic = canonical(positionals[1]);
      if (topic === undefined) io.stdout(helpText(registry));
      else if (isCommand(topic)) io.stdout(commandHelp(topic, registry));
      else throw new UsageError(`no help for "${positionals[1]}" (commands: ${COMMANDS.join(', ')})`);
      return 0;
    }
    if (!command || (wantsHelp && !isCommand(command))) {
      io.stdout(helpText(registry));
      return command || wantsHelp ? 0 : 2;
    }
    if (wantsHelp && isCommand(command)) {
      io.stdout(commandHelp(command, registry));
      return 0;
    }
    switch (command) {
      case 'convert':
        // Commands load their modules when run, so `--help` and the others start without them.
        return (
          (await (await import('./convert.ts')).runConvert(convertArgs(values, registry), registry)) ?? 0
        );
      case 'formats':
        if (typeof values.config !== 'string')
          throw new UsageError('missing -c/--config (the project label config XML)');
        await (await import('./formats-command.ts')).runFormats(values.config, registry);
        return 0;
      case 'sync': {
        const { runSync, syncArgs } = await import('./sync.ts');
        const args = syncArgs(argv.slice(1).filter((a) => a !== '--debug'));
        endpoint = args.endpoint;
        await runSync(args);
        return 0;
      }
      case 'demo': {
        const { runDemo } = await import('./demo.ts');
        await runDemo();
        return 0;
      }
      default:
        throw new UsageError(
          `unknown command "${command}" (try: convert, export, formats, sync, demo, help)`,
        );
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`ls-export: ${err.message}\nRun "ls-export --help" for usage.\n`);
      return 2;
    }
    if (err instanceof CliError) {
      io.stderr(`ls-export: ${err.message}\n`);
      return err instanceof InputError ? 2 : 1;
    }
    const sentence = describeError(err, endpoint);
    const trace = debug && err instanceof Error && err.stack ? `\n${err.stack}` : '';
    if (sentence) {
      io.stderr(`ls-export: ${sentence}${trace}\n`);
      return 1;
    }
    const what = err instanceof Error ? err.message : String(err);
    io.stderr(
      `ls-export: unexpected error: ${what}${trace || '\n(run again with --debug for the stack trace)'}\n`,
    );
    return 1;
  }
}
