import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createS3Client } from './client.js';
import { presignPost } from './presign-post.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const client = createS3Client({ endpoint: 'http://127.0.0.1:7480', region: 'us-east-1', credentials });
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
});
afterEach(() => {
  vi.useRealTimers();
});

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

const base = { client, bucket: 'uploads', key: 'avatars/abc.png', contentType: 'image/png', maxFileSize: 1024 };

describe('presignPost', () => {
  it('returns LiveView S3 uploader meta with a path-style bucket URL', async () => {
    const meta = await presignPost({ ...base, expiresIn: 60 });
    expect(meta.uploader).toBe('S3');
    expect(meta.key).toBe('avatars/abc.png');
    expect(meta.url).toBe('http://127.0.0.1:7480/uploads');
    expect(meta.fields).toMatchObject({
      key: 'avatars/abc.png',
      'Content-Type': 'image/png',
      bucket: 'uploads',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': 'AKIDEXAMPLE/20260115/us-east-1/s3/aws4_request',
      'X-Amz-Date': '20260115T120000Z',
    });
  });

  it('signs a policy with the size range, the exact key, the exact type and the expiry', async () => {
    const meta = await presignPost({ ...base, expiresIn: 60, minFileSize: 1 });
    const policy = JSON.parse(Buffer.from(meta.fields['Policy'] ?? '', 'base64').toString('utf8')) as {
      expiration: string;
      conditions: unknown[];
    };
    expect(policy.expiration).toBe('2026-01-15T12:01:00Z');
    expect(policy.conditions).toEqual(
      expect.arrayContaining([
        ['content-length-range', 1, 1024],
        { 'Content-Type': 'image/png' },
        { key: 'avatars/abc.png' },
        { bucket: 'uploads' },
      ]),
    );
    expect(policy.conditions.some((c) => Array.isArray(c) && c[0] === 'starts-with')).toBe(false);
  });

  it('produces the SigV4 signature of the policy (checked with node:crypto)', async () => {
    const meta = await presignPost(base);
    const signingKey = ['20260115', 'us-east-1', 's3', 'aws4_request'].reduce<Buffer | string>(
      (key, part) => hmac(key, part),
      `AWS4${credentials.secretAccessKey}`,
    );
    expect(meta.fields['X-Amz-Signature']).toBe(hmac(signingKey, meta.fields['Policy'] ?? '').toString('hex'));
  });

  it('defaults to a one-hour policy and a zero minimum', async () => {
    const meta = await presignPost(base);
    const policy = JSON.parse(Buffer.from(meta.fields['Policy'] ?? '', 'base64').toString('utf8')) as {
      expiration: string;
      conditions: unknown[];
    };
    expect(policy.expiration).toBe('2026-01-15T13:00:00Z');
    expect(policy.conditions).toContainEqual(['content-length-range', 0, 1024]);
  });

  it.each([
    [{ key: '' }, TypeError],
    [{ key: 'uploads/${filename}' }, TypeError],
    [{ bucket: '' }, TypeError],
    [{ contentType: '' }, TypeError],
    [{ contentType: 'text/plain\r\nx-evil: 1' }, TypeError],
    [{ maxFileSize: -1 }, RangeError],
    [{ maxFileSize: 1.5 }, RangeError],
    [{ minFileSize: 2000 }, RangeError],
    [{ expiresIn: 0 }, RangeError],
    [{ expiresIn: 8 * 24 * 3600 }, RangeError],
  ])('rejects %j', async (override, errorClass) => {
    await expect(presignPost({ ...base, ...override })).rejects.toThrow(errorClass);
  });
});
