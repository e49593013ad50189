// S3 settings for the examples, from INLET_S3_* environment variables. The
// AWS SDK (in @inletjs/s3) is loaded only when S3 is configured.
const env = process.env;

/**
 * `undefined` when INLET_S3_BUCKET is not set; otherwise helpers that presign
 * POSTs and build a multipart store for the receiver.
 */
export function s3FromEnv(vars = env) {
  if (!vars.INLET_S3_BUCKET) return undefined;
  return s3Helpers({
    endpoint: vars.INLET_S3_ENDPOINT || undefined,
    region: vars.INLET_S3_REGION || 'us-east-1',
    bucket: vars.INLET_S3_BUCKET,
    accessKeyId: vars.INLET_S3_ACCESS_KEY ?? '',
    secretAccessKey: vars.INLET_S3_SECRET ?? '',
    maxFileSize: vars.INLET_S3_MAX_FILE_SIZE ? Number(vars.INLET_S3_MAX_FILE_SIZE) : undefined,
  });
}

/** Helpers over one bucket. */
export function s3Helpers({ endpoint, region, bucket, accessKeyId, secretAccessKey, maxFileSize }) {
  let loaded;
  const load = () =>
    (loaded ??= import('@inletjs/s3').then((m) => ({
      m,
      client: m.createS3Client({ endpoint, region, credentials: { accessKeyId, secretAccessKey } }),
    })));
  const limit = maxFileSize ?? 50 * 1024 * 1024;
  return {
    bucket,
    maxFileSize: limit,
    async presignPost({ key, contentType }) {
      const { m, client } = await load();
      return m.presignPost({ client, bucket, key, contentType, maxFileSize: limit, expiresIn: 300 });
    },
    async multipartStore() {
      const { m, client } = await load();
      return new m.S3MultipartStore({ client, bucket });
    },
  };
}
