/**
 * Render fan-out: the render-plan, render-segment and render-commit functions, and per project a
 * Standard state machine (DESIGN.md "Render fan-out"):
 *   Plan (Lambda: lock as the execution name, changed segments as a JSON array under
 *   `_state/render-fanout/<execution>/items.json`) → Planned? → RenderSegments (Distributed Map,
 *   S3 JSON ItemReader on that array, ItemBatcher, bounded concurrency, tolerated failures,
 *   ResultWriterV2 under `_state/render-results/`) → Commit (Lambda: assemble, manifest last,
 *   lock released). A Catch on the Map and the Commit runs Abort (render-commit `abort`: lock
 *   released, job objects deleted, manifest untouched) and fails the execution.
 * The same machine runs snapshot jobs (execution input `kind: "snapshot"`, started by the snapshot
 * function): Plan and Abort get the execution input, the children and the Commit the plan's
 * `kind` and `snapshot`; the functions then write `snapshots/` and update the export record
 * (`_exports/`), without the render lock.
 * Each state machine has a role written here, scoped to its project's prefixes and its own child
 * executions (as ProjectRebuild's).
 */
import { Aws, Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { ProjectLayout } from '../layout.ts';
import type { PipelineFunction } from '../pipeline-function.ts';
import { DELETE, READ, READ_VERSIONS, S3Access, type S3Location, WRITE } from '../s3-access.ts';
import { grantDistributedMapRole } from './distributed-map-role.ts';
import { markGroupingScope } from './logical-ids.ts';
import { exportAreas, type PipelineProps, pipelineFunction } from './pipeline.ts';
import { type FunctionTuning, sanitize } from './shared.ts';

export interface RenderFanoutTuning {
  /** Segments per Map child (ItemBatcher). Default 4 (about 4,000 tasks). */
  readonly segmentsPerBatch?: number;
  /** Parallel Map children. Default 40. */
  readonly maxConcurrency?: number;
  /** Failed children tolerated, %; the commit renders their segments itself. Default 0. */
  readonly toleratedFailurePercentage?: number;
  /** Changed segments from which the render function starts the fan-out (Render.routeTo). Default 20. */
  readonly fanoutSegments?: number;
}

export interface RenderFanoutProps extends PipelineProps {
  readonly planTuning?: FunctionTuning;
  readonly segmentTuning?: FunctionTuning;
  readonly commitTuning?: FunctionTuning;
  readonly fanout?: RenderFanoutTuning;
  /** Locations the segment and commit functions may read media from. */
  readonly media: readonly S3Location[];
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/** Where a project's fan-out keeps its job objects and the Map's results. */
export const fanoutJobs = (p: ProjectLayout) => `${p.state}render-fanout/`;
export const fanoutResults = (p: ProjectLayout) => `${p.state}render-results/`;

export class RenderFanout extends Construct {
  readonly planFunction: PipelineFunction;
  readonly segmentFunction: PipelineFunction;
  readonly commitFunction: PipelineFunction;
  /** The render state machine of each project, by ls-export project id. */
  readonly stateMachines = new Map<string, sfn.StateMachine>();
  private readonly props: RenderFanoutProps;

  constructor(scope: Construct, id: string, props: RenderFanoutProps) {
    super(scope, id);
    markGroupingScope(this);
    this.props = props;
    const { layout } = props;
    this.planFunction = pipelineFunction(this, 'RenderPlan', 'renderPlan', props, {
      entry: 'functions/handlers/render-plan.ts',
      description: 'ls-export: render fan-out, takes the lock and lists the changed segments',
      memorySize: 1024,
      timeoutSeconds: 300,
      tuning: props.planTuning,
    });
    this.segmentFunction = pipelineFunction(this, 'RenderSegment', 'renderSegment', props, {
      entry: 'functions/handlers/render-segment.ts',
      description: 'ls-export: render fan-out, renders a batch of segments',
      memorySize: 1769,
      timeoutSeconds: 900,
      ephemeralStorageMiB: 2048,
      tuning: props.segmentTuning,
    });
    this.commitFunction = pipelineFunction(this, 'RenderCommit', 'renderCommit', props, {
      entry: 'functions/handlers/render-commit.ts',
      description: 'ls-export: render fan-out, assembles the segments and writes the manifest last',
      memorySize: 3008,
      timeoutSeconds: 900,
      // The commit spools every changed segment's bodies until their file is assembled.
      ephemeralStorageMiB: 10240,
      tuning: props.commitTuning,
    });
    const state = exportAreas(layout, 'state');
    const latest = exportAreas(layout, 'latest');
    const snapshots = exportAreas(layout, 'snapshots');
    const exportsArea = exportAreas(layout, 'exports');
    const plan = new S3Access(this.planFunction.role, props.nag);
    plan.objects('ReadWriteState', [...READ, ...WRITE, ...DELETE], state);
    plan.objects('ReadLatest', READ, latest);
    // A snapshot job's plan reads its export record.
    plan.objects('ReadExports', READ, exportsArea);
    plan.list('ListState', state);
    const segment = new S3Access(this.segmentFunction.role, props.nag);
    segment.objects('ReadWriteState', [...READ, ...WRITE], state);
    segment.objects('WriteLatest', [...READ, ...WRITE], latest);
    segment.objects('WriteSnapshots', [...READ, ...WRITE], snapshots);
    segment.objects('ReadMedia', READ, props.media);
    segment.list('ListMedia', props.media);
    const commit = new S3Access(this.commitFunction.role, props.nag);
    commit.objects('ReadWriteState', [...READ, ...WRITE, ...DELETE], state);
    // The commit assembles files and zips from the previous versions' ranges (READ_VERSIONS).
    commit.objects('ReadWriteLatest', [...READ, ...READ_VERSIONS, ...WRITE, ...DELETE], latest);
    // A snapshot job's commit writes the snapshot (its abort deletes an incomplete one) and the record.
    commit.objects('ReadWriteSnapshots', [...READ, ...WRITE, ...DELETE], snapshots);
    commit.objects('ReadWriteExports', [...READ, ...WRITE], exportsArea);
    commit.list('ListStateLatestSnapshots', [...state, ...latest, ...snapshots]);
    commit.objects('ReadMedia', READ, props.media);
    commit.list('ListMedia', props.media);

    for (const p of layout.projects) {
      const sm = this.stateMachine(p);
      this.stateMachines.set(p.id, sm);
      props.alarms.renderFanout(p.id, sm);
    }
  }

  private stateMachine(p: ProjectLayout): sfn.StateMachine {
    const { nag, storage, layout } = this.props;
    const t = this.props.fanout ?? {};
    const id = `RenderFanout-${sanitize(p.id)}`;
    const throttled = {
      errors: ['Lambda.TooManyRequestsException'],
      interval: Duration.seconds(2),
      maxAttempts: 8,
      backoffRate: 2,
      jitterStrategy: sfn.JitterType.FULL,
    };
    const plan = new tasks.LambdaInvoke(this, `${id}-Plan`, {
      stateName: 'Plan',
      lambdaFunction: this.planFunction.fn,
      // The execution input says the job's kind (a snapshot job's: `kind`, `exportId`).
      payload: sfn.TaskInput.fromObject({
        projectId: p.id,
        owner: sfn.JsonPath.executionName,
        input: sfn.JsonPath.objectAt('$$.Execution.Input'),
      }),
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
      resultPath: '$.plan',
    });
    plan.addRetry(throttled);
    const map = new sfn.DistributedMap(this, `${id}-Map`, {
      stateName: 'RenderSegments',
      comment: 'Renders the changed segments listed by the plan, a batch per child',
      itemReader: new sfn.S3JsonItemReader({
        bucket: storage.exportBucket,
        key: sfn.JsonPath.stringAt('$.plan.ref.items.key'),
      }),
      itemBatcher: new sfn.ItemBatcher({
        maxItemsPerBatch: t.segmentsPerBatch ?? 4,
        // Each child's input must stay under the 256 KiB state payload limit.
        maxInputBytesPerBatch: 200 * 1024,
        batchInput: {
          projectId: p.id,
          'owner.$': '$.plan.ref.owner',
          'startedAt.$': '$.plan.ref.startedAt',
          'kind.$': '$.plan.ref.kind',
          // null for a latest/ render
          'snapshot.$': '$.plan.ref.snapshot',
        },
      }),
      maxConcurrency: t.maxConcurrency ?? 40,
      toleratedFailurePercentage: t.toleratedFailurePercentage ?? 0,
      mapExecutionType: sfn.StateMachineType.STANDARD,
      label: 'RenderSegments',
      resultWriterV2: new sfn.ResultWriterV2({ bucket: storage.exportBucket, prefix: fanoutResults(p) }),
      resultSelector: { 'resultWriterDetails.$': '$.ResultWriterDetails' },
      resultPath: '$.segments',
    });
    const segment = new tasks.LambdaInvoke(this, `${id}-Segment`, {
      stateName: 'RenderSegmentBatch',
      lambdaFunction: this.segmentFunction.fn,
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
    });
    // Up to maxConcurrency children start at once: ride out Lambda throttling instead of failing them.
    segment.addRetry(throttled);
    map.itemProcessor(segment);
    const commit = new tasks.LambdaInvoke(this, `${id}-Commit`, {
      stateName: 'Commit',
      lambdaFunction: this.commitFunction.fn,
      payload: sfn.TaskInput.fromObject({ action: 'commit', ref: sfn.JsonPath.objectAt('$.plan.ref') }),
      payloadResponseOnly: true,
      // Not retried after it ran: a failed commit has released the lock (the abort path follows).
      retryOnServiceExceptions: false,
      resultPath: '$.commit',
    });
    commit.addRetry(throttled);
    const abort = new tasks.LambdaInvoke(this, `${id}-Abort`, {
      stateName: 'Abort',
      lambdaFunction: this.commitFunction.fn,
      payload: sfn.TaskInput.fromObject({
        action: 'abort',
        projectId: p.id,
        owner: sfn.JsonPath.executionName,
        error: sfn.JsonPath.objectAt('$.error'),
        input: sfn.JsonPath.objectAt('$$.Execution.Input'),
      }),
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
      resultPath: '$.abort',
    });
    abort.addRetry(throttled);
    const failed = new sfn.Fail(this, `${id}-Failed`, {
      stateName: 'RenderFailed',
      error: 'RenderFailed',
      causePath: '$.error.Cause',
    });
    abort.next(failed);
    // A failed Plan (after its retries) also aborts: the marker is rewritten, so the render runs again.
    plan.addCatch(abort, { errors: ['States.ALL'], resultPath: '$.error' });
    map.addCatch(abort, { errors: ['States.ALL'], resultPath: '$.error' });
    commit.addCatch(abort, { errors: ['States.ALL'], resultPath: '$.error' });
    const nothing = new sfn.Succeed(this, `${id}-Nothing`, {
      stateName: 'NothingToRender',
      comment: 'Busy (another render holds the lock; the marker is rewritten) or already up to date',
    });
    const planned = new sfn.Choice(this, `${id}-Planned`, { stateName: 'Planned?' })
      .when(sfn.Condition.stringEquals('$.plan.status', 'planned'), map.next(commit))
      .otherwise(nothing);

    const logGroup = new logs.LogGroup(this, `${id}-Logs`, {
      retention: this.props.logRetention,
      removalPolicy: this.props.removalPolicy,
    });
    const stateMachineName = `${Stack.of(this).stackName}-render-${p.id}`.slice(0, 80);
    const role = new iam.Role(this, `${id}-Role`, {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description: `ls-export render fan-out of project ${p.id}`,
    });
    const access = new S3Access(role, nag);
    access.objects(
      'ReadPlanItems',
      ['s3:GetObject'],
      [{ bucket: layout.exportBucketName, prefix: fanoutJobs(p) }],
    );
    access.objects(
      'WriteMapResults',
      ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
      [{ bucket: layout.exportBucketName, prefix: fanoutResults(p) }],
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'InvokeRenderFunctions',
        actions: ['lambda:InvokeFunction'],
        resources: [
          this.planFunction.fn.functionArn,
          this.segmentFunction.fn.functionArn,
          this.commitFunction.fn.functionArn,
        ],
      }),
    );
    grantDistributedMapRole(this, id, role, stateMachineName, 'RenderSegments', nag);

    const sm = new sfn.StateMachine(this, id, {
      stateMachineName,
      comment: `ls-export render of project ${p.id} fanned out by segments: plan, segment batches, commit (manifest last)`,
      definitionBody: sfn.DefinitionBody.fromChainable(plan.next(planned)),
      stateMachineType: sfn.StateMachineType.STANDARD,
      role: role.withoutPolicyUpdates(),
      timeout: Duration.hours(6),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    sm.node.addDependency(role);
    sm.node.tryRemoveChild('DistributedMapPolicy');
    return sm;
  }
}
