/**
 * Shared setup for the CDK tests: an App with the same context as cdk.json (feature flags,
 * including the ResultWriterV2 one; `Template.fromStack` does not read cdk.json), bundling skipped
 * (`aws:cdk:bundling-stacks: []`), and small helpers to read the synthesized template.
 */
import { readFileSync } from 'node:fs';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { LsExportStack, type LsExportStackProps } from '../../infra/ls-export-stack.ts';

const root = new URL('../../', import.meta.url);

/** Synthesized CloudFormation JSON, read loosely. */
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation template JSON is untyped
export type Cfn = any;

export const CDK_JSON = JSON.parse(readFileSync(new URL('cdk.json', root), 'utf8')) as {
  app: string;
  context: Record<string, unknown>;
};

export function exampleConfig(): { version: 1; projects: Record<string, Cfn>[] } {
  return JSON.parse(readFileSync(new URL('samples/deploy-config.example.json', root), 'utf8'));
}

export function makeApp(context: Record<string, unknown> = {}): App {
  return new App({ context: { ...CDK_JSON.context, 'aws:cdk:bundling-stacks': [], ...context } });
}

export interface Synth {
  readonly app: App;
  readonly stack: LsExportStack;
  readonly template: Template;
  readonly json: { Resources: Record<string, Resource> };
}

export interface Resource {
  Type: string;
  Properties: Record<string, Cfn>;
  DependsOn?: string[];
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

export function synth(
  props: Partial<LsExportStackProps> = {},
  opts: { nag?: boolean; context?: Record<string, unknown> } = {},
): Synth {
  const app = makeApp(opts.context);
  const stack = new LsExportStack(app, 'LsExportTest', { config: exampleConfig(), ...props });
  if (opts.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  const template = Template.fromStack(stack);
  return { app, stack, template, json: template.toJSON() as Synth['json'] };
}

/** The template's resources of one type, by logical id. */
export function ofType(s: Synth, type: string): [string, Resource][] {
  return Object.entries(s.json.Resources).filter(([, r]) => r.Type === type);
}

/** The logical id a CDK construct renders to. */
export function logicalId(s: Synth, construct: { node: { defaultChild?: unknown } } | unknown): string {
  const c = (construct as { node: { defaultChild?: unknown } }).node?.defaultChild ?? construct;
  return s.stack.getLogicalId(c as Parameters<LsExportStack['getLogicalId']>[0]);
}

/**
 * A CloudFormation value as one string, the way cdk-nag flattens it: `Fn::Join` concatenated,
 * `Ref` → `<Ref>`, `Fn::GetAtt` → `<Id.Attr>`.
 */
export function flat(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object') {
    const o = v as Record<string, Cfn>;
    if ('Fn::Join' in o) return (o['Fn::Join'][1] as unknown[]).map(flat).join(o['Fn::Join'][0]);
    if ('Ref' in o) return `<${o.Ref}>`;
    if ('Fn::GetAtt' in o) return `<${o['Fn::GetAtt'][0]}.${o['Fn::GetAtt'][1]}>`;
  }
  return JSON.stringify(v);
}

export function asArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

export interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Cfn>;
}

/** Every Allow statement of every IAM policy attached to the given role (logical id). */
export function roleStatements(s: Synth, roleLogicalId: string): Statement[] {
  const out: Statement[] = [];
  for (const [, r] of ofType(s, 'AWS::IAM::Policy')) {
    const roles = asArray(r.Properties.Roles).map(flat);
    if (!roles.includes(`<${roleLogicalId}>`)) continue;
    out.push(...(r.Properties.PolicyDocument.Statement as Statement[]).filter((st) => st.Effect === 'Allow'));
  }
  return out;
}

/** A state machine definition string with its tokens replaced by `<…>`, parsed. */
export function definition(s: Synth, stateMachineLogicalId: string): Cfn {
  const def = s.json.Resources[stateMachineLogicalId].Properties.DefinitionString;
  return JSON.parse(flat(def));
}
