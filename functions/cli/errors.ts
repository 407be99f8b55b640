/** Errors the CLI turns into one sentence on stderr and a non-zero exit status. */

/** Bad command-line usage: exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A missing input, an unreadable config, an unsupported format: exit status 1. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}
