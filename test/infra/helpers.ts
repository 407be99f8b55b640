/**
 * Shared setup for the CDK tests: an App with the same context as cdk.json (feature flags,
 * including the ResultWriterV2 one; `Template.fromStack` does not read cdk.json), bundling skipped
 * (`aws:cdk:bundling-stacks: []`), and small helpers to read the synthesized template.
 */
import { readFileSync } from 'node:fs';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { FunctionName, LsExport } from '../../infra/constructs/ls-export.ts';
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
  /** The stack's `LsExport` construct. */
  readonly ls: LsExport;
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
  return { app, stack, ls: stack.lsExport, template, json: template.toJSON() as Synth['json'] };
}

export const EXPORT = 'acme-ls-export';
export const SOURCE = 'acme-labelstudio-target';
export const KMS_KEY = 'arn:aws:kms:eu-central-1:111122223333:key/0a1b2c3d-1111-2222-3333-444455556666';

/** The props most construct tests synthesize with (non-default schedule, retention, KMS, e-mail). */
export const FULL_PROPS: Partial<LsExportStackProps> = {
  nightlyCron: '30 3 * * ? *',
  nightlyTimeZone: 'Europe/Berlin',
  snapshotRetentionDays: 45,
  sourceKmsKeyArns: [KMS_KEY],
  alarmEmail: 'ops@example.com',
};

/** `arn:<AWS::Partition>:s3:::<bucket/key>`, the flattened form of an S3 ARN. */
export const s3Arn = (key: string): string => `arn:<AWS::Partition>:s3:::${key}`;

/** Logical ids of a pipeline function and of its role. */
export function fnId(s: Synth, name: FunctionName): string {
  return logicalId(s, s.ls.functions[name].fn);
}
export function roleId(s: Synth, name: FunctionName): string {
  return logicalId(s, s.ls.functions[name].role);
}

/** The resources (object ARNs, flattened) a role may call `s3:GetObject` on. */
export function readableObjects(s: Synth, name: FunctionName): string[] {
  return roleStatements(s, roleId(s, name))
    .filter((st) => asArray(st.Action).includes('s3:GetObject'))
    .flatMap((st) => asArray(st.Resource).map(flat));
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
