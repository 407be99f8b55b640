/** `ls-export --version`: the version in the package.json of ls-export. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The `version` of the nearest package.json named "ls-export" above `from` (this module's folder:
 * functions/cli/ under tsx, dist/cli/… in the bundle). Throws when there is none.
 */
export function cliVersion(from: string = import.meta.dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'ls-export' && pkg.version) return pkg.version;
    }
    if (dirname(dir) === dir) throw new Error(`no package.json of ls-export above ${from}`);
  }
}
