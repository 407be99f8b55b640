/** `s3://bucket/key-or-prefix` parsing, shared by the CLI, the pipeline and the CDK app (no AWS SDK). */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m) throw new Error(`not an s3:// URL: ${url}`);
  return { bucket: m[1], prefix: m[2] };
}
