/**
 * Grouping constructs that do not change CloudFormation logical ids.
 *
 * The constructs of this package group resources by concern (`LsExport/Storage/ExportBucket`), but
 * stacks deployed before the split named them from the stack root (`ExportBucket`). Changing a
 * logical id replaces the resource on update, and a named bucket or state machine cannot even be
 * replaced. A stack that wants the flat ids (`LsExportStack`) asks `flatLogicalIdScopes` for the
 * path without the grouping scopes marked here.
 */
import { Names } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

const grouping = new WeakSet<IConstruct>();

/** Marks `scope` as a grouping scope: its id is left out of the logical ids below it (see above). */
export function markGroupingScope(scope: IConstruct): void {
  grouping.add(scope);
}

/** `scopes` without the grouping scopes. */
export function flatLogicalIdScopes(scopes: readonly IConstruct[]): IConstruct[] {
  return scopes.filter((s) => !grouping.has(s));
}

const uniqueIdUsers = new WeakMap<IConstruct, Map<string, IConstruct>>();

/**
 * Records that CDK names some construct after `Names.nodeUniqueId(c)` — a path-derived id that
 * the grouping scopes would change (`SqsEventSource:<queue's unique id>` under the function).
 * A flattening stack renames such a component to the unique id of `c`'s flat path.
 */
export function noteUniqueIdUser(c: IConstruct): void {
  const root = c.node.root;
  const map = uniqueIdUsers.get(root) ?? new Map<string, IConstruct>();
  map.set(Names.nodeUniqueId(c.node), c);
  uniqueIdUsers.set(root, map);
}

/** The constructs noted with `noteUniqueIdUser` in `root`'s tree, by their (grouped) unique id. */
export function uniqueIdUsersOf(root: IConstruct): ReadonlyMap<string, IConstruct> {
  return uniqueIdUsers.get(root) ?? new Map();
}
