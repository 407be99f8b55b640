/**
 * Least-privilege S3 grants scoped to bucket/prefix ARNs. Object actions go on
 * `arn:<partition>:s3:::<bucket>/<prefix>*`; listing goes on the bucket ARN with an `s3:prefix`
 * condition. The only wildcard is the trailing `*` standing for keys under a prefix; each one is
 * acknowledged for cdk-nag (IAM5) with the prefix it is limited to.
 */
import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { iam5Resource, type NagAcknowledgements } from './nag.ts';

export interface S3Location {
  readonly bucket: string;
  /** Key prefix (`''` for the whole bucket) or, with `exact`, a whole key (which may hold a `*`). */
  readonly prefix: string;
  readonly exact?: boolean;
}

export const READ = ['s3:GetObject'];
export const WRITE = ['s3:PutObject', 's3:AbortMultipartUpload'];
export const DELETE = ['s3:DeleteObject'];
/**
 * Reading a given version of an object: a GET with `versionId`, and an UploadPartCopy whose source
 * names one (S3 asks for s3:GetObjectVersion there, not s3:GetObject). A render assembles files and
 * `latest/<FORMAT>.zip` from byte ranges of the previous versions its manifest names.
 */
export const READ_VERSIONS = ['s3:GetObjectVersion'];

export function bucketArn(bucket: string): string {
  return `arn:${Aws.PARTITION}:s3:::${bucket}`;
}

function objectArn(loc: S3Location): { arn: string; flat: string } {
  const suffix = loc.exact ? loc.prefix : `${loc.prefix}*`;
  return {
    arn: `${bucketArn(loc.bucket)}/${suffix}`,
    flat: `arn:<AWS::Partition>:s3:::${loc.bucket}/${suffix}`,
  };
}

export class S3Access {
  constructor(
    private readonly role: iam.IRole,
    private readonly nag: NagAcknowledgements,
  ) {}

  /** Object-level actions on keys under each location. */
  objects(sid: string, actions: readonly string[], locations: readonly S3Location[]): void {
    if (locations.length === 0) return;
    const arns = [...new Map(locations.map((l) => [objectArn(l).flat, objectArn(l)])).values()];
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid, actions: [...actions], resources: arns.map((a) => a.arn) }),
    );
    for (const a of arns) {
      if (!a.flat.includes('*')) continue;
      const reason = a.flat.endsWith('*')
        ? `Object actions (${actions.join(', ')}) are limited to keys under ${a.flat.slice(0, -1)}; the trailing wildcard stands for the object keys below that prefix, which IAM cannot enumerate.`
        : `Object actions (${actions.join(', ')}) are limited to keys matching ${a.flat}; the wildcard stands for one generated folder name (e.g. a snapshot name), which IAM cannot enumerate.`;
      this.nag.add(this.role, iam5Resource(a.flat), reason);
    }
  }

  /** `s3:ListBucket` limited by `s3:prefix` to the given prefixes, one statement per bucket. */
  list(sid: string, locations: readonly S3Location[]): void {
    const byBucket = new Map<string, Set<string>>();
    for (const l of locations) {
      const set = byBucket.get(l.bucket) ?? new Set<string>();
      set.add(l.prefix);
      byBucket.set(l.bucket, set);
    }
    let n = 0;
    for (const [bucket, prefixes] of byBucket) {
      const whole = prefixes.has('');
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: `${sid}${n++ || ''}`,
          actions: ['s3:ListBucket'],
          resources: [bucketArn(bucket)],
          conditions: whole ? undefined : { StringLike: { 's3:prefix': [...prefixes].map((p) => `${p}*`) } },
        }),
      );
    }
  }
}
