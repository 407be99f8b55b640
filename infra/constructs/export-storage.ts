/**
 * Export storage: the export bucket (versioned, SSE-S3, private, TLS 1.2+, access-logged, with the
 * lifecycle of snapshots, state versions and rebuild results), the access-log bucket, and the
 * source buckets — imported by name, or created hardened in `sourceBucketMode: 'create'`.
 */
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { DeploymentLayout } from '../layout.ts';
import type { NagAcknowledgements } from '../nag.ts';
import { READ, S3Access, type S3Location } from '../s3-access.ts';
import { markGroupingScope } from './logical-ids.ts';
import { sanitize } from './shared.ts';

export interface ExportStorageProps {
  readonly layout: DeploymentLayout;
  readonly nag: NagAcknowledgements;
  readonly removalPolicy: RemovalPolicy;
  /** `import` (default): source buckets exist; `create`: they are created here. */
  readonly sourceBucketMode?: 'import' | 'create';
  /** Days before a snapshot under `snapshots/` expires. Default 30. */
  readonly snapshotRetentionDays?: number;
  /** Days before a noncurrent object version expires. Default 30. */
  readonly noncurrentVersionDays?: number;
  /** Days before incomplete multipart uploads are aborted (1–7). Default 3. */
  readonly abortIncompleteUploadDays?: number;
  /** Days S3 server access logs are kept. Default 90. */
  readonly accessLogRetentionDays?: number;
}

export class ExportStorage extends Construct {
  readonly exportBucket: s3.Bucket;
  readonly accessLogBucket: s3.Bucket;
  private readonly props: ExportStorageProps;
  private readonly sourceBuckets = new Map<string, s3.IBucket>();

  constructor(scope: Construct, id: string, props: ExportStorageProps) {
    super(scope, id);
    markGroupingScope(this);
    this.props = props;
    const { layout } = props;
    this.accessLogBucket = new s3.Bucket(this, 'AccessLogBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED, // the only encryption S3 server access logging delivers to
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      lifecycleRules: [
        { id: 'expire-access-logs', expiration: Duration.days(props.accessLogRetentionDays ?? 90) },
        { id: 'abort-incomplete-multipart', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: props.removalPolicy,
    });
    props.nag.add(
      this.accessLogBucket,
      'AwsSolutions-S1',
      'This is the server access log bucket of the other buckets; logging its own access would recurse.',
    );
    this.exportBucket = new s3.Bucket(this, 'ExportBucket', {
      bucketName: layout.exportBucketName,
      versioned: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: `s3/${layout.exportBucketName}/`,
      lifecycleRules: this.exportLifecycleRules(),
      removalPolicy: props.removalPolicy,
    });
  }

  /** A source bucket: the export bucket itself, created (mode `create`) or imported by name. */
  sourceBucket(name: string): s3.IBucket {
    if (name === this.props.layout.exportBucketName) return this.exportBucket;
    const cached = this.sourceBuckets.get(name);
    if (cached) return cached;
    const p = this.props;
    const id = `SourceBucket-${name}`;
    const bucket =
      p.sourceBucketMode === 'create'
        ? new s3.Bucket(this, id, {
            bucketName: name,
            versioned: true,
            encryption: s3.BucketEncryption.S3_MANAGED,
            blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
            objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforceSSL: true,
            minimumTLSVersion: 1.2,
            serverAccessLogsBucket: this.accessLogBucket,
            serverAccessLogsPrefix: `s3/${name}/`,
            lifecycleRules: [
              {
                id: 'abort-incomplete-multipart',
                abortIncompleteMultipartUploadAfter: Duration.days(p.abortIncompleteUploadDays ?? 3),
              },
              {
                id: 'expire-noncurrent-versions',
                noncurrentVersionExpiration: Duration.days(p.noncurrentVersionDays ?? 30),
              },
            ],
            removalPolicy: p.removalPolicy,
          })
        : s3.Bucket.fromBucketName(this, id, name);
    this.sourceBuckets.set(name, bucket);
    return bucket;
  }

  /**
   * Read-only access for consumers of the exports (e.g. training jobs): `s3:GetObject` on
   * `latest/` and `snapshots/` of one project (by ls-export id) or of all, and `s3:ListBucket`
   * limited to those prefixes. Nothing else of the bucket (`_state/`, `_exports/`, the config).
   * The bucket is SSE-S3 encrypted, so no KMS permission is needed. Throws for an unknown project.
   */
  grantReadExports(grantee: iam.IRole, projectId?: string): void {
    const { layout, nag } = this.props;
    const projects =
      projectId === undefined ? layout.projects : layout.projects.filter((p) => p.id === projectId);
    if (projects.length === 0) {
      throw new Error(
        `grantReadExports: no project "${projectId}" in this deployment (projects: ${layout.projects.map((p) => p.id).join(', ')})`,
      );
    }
    const at = projects.flatMap((p): S3Location[] => [
      { bucket: layout.exportBucketName, prefix: p.latest },
      { bucket: layout.exportBucketName, prefix: p.snapshots },
    ]);
    const access = new S3Access(grantee, nag);
    const sid = projectId === undefined ? 'ReadExports' : `ReadExports${sanitize(projectId)}`;
    access.objects(sid, READ, at);
    access.list(`List${sid}`, at);
  }

  private exportLifecycleRules(): s3.LifecycleRule[] {
    const p = this.props;
    const rules: s3.LifecycleRule[] = [
      {
        id: 'abort-incomplete-multipart',
        abortIncompleteMultipartUploadAfter: Duration.days(p.abortIncompleteUploadDays ?? 3),
      },
      {
        id: 'expire-noncurrent-versions',
        noncurrentVersionExpiration: Duration.days(p.noncurrentVersionDays ?? 30),
        expiredObjectDeleteMarker: true,
      },
    ];
    for (const proj of p.layout.projects) {
      const id = proj.id;
      rules.push(
        {
          id: `expire-snapshots-${id}`,
          prefix: proj.snapshots,
          expiration: Duration.days(p.snapshotRetentionDays ?? 30),
        },
        // State is rewritten on every change: old versions of it are worthless after a day.
        {
          id: `expire-noncurrent-state-${id}`,
          prefix: proj.state,
          noncurrentVersionExpiration: Duration.days(1),
        },
        { id: `expire-rebuild-results-${id}`, prefix: proj.rebuildResults, expiration: Duration.days(7) },
        // A fan-out job lasts hours; what a late worker left after its job's abort goes after a week.
        { id: `expire-fanout-jobs-${id}`, prefix: proj.fanoutJobs, expiration: Duration.days(7) },
      );
    }
    return rules;
  }
}
