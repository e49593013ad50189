import { createServer, type Socket } from 'node:net';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { createS3Client } from './client.js';
import { isTransientS3Error } from './multipart-store.js';

const credentials = { accessKeyId: 'a', secretAccessKey: 'b' };

describe('createS3Client', () => {
  it('uses path-style addressing and checksums only when required, for a custom endpoint', async () => {
    const client = createS3Client({ endpoint: 'http://127.0.0.1:7480', region: 'us-east-1', credentials });
    expect(client.config.forcePathStyle).toBe(true);
    expect(await client.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    expect(await client.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
    expect(await client.config.region()).toBe('us-east-1');
    const endpoint = await client.config.endpoint?.();
    expect(endpoint?.hostname).toBe('127.0.0.1');
    expect(endpoint?.port).toBe(7480);
  });

  it('keeps virtual-hosted addressing for AWS unless asked otherwise', () => {
    expect(createS3Client({ region: 'eu-west-1', credentials }).config.forcePathStyle).toBe(false);
    expect(createS3Client({ region: 'eu-west-1', credentials, forcePathStyle: true }).config.forcePathStyle).toBe(true);
  });

  it('gives up on a server that accepts the connection and then stalls, with a transient error', async () => {
    const sockets: Socket[] = [];
    const server = createServer((socket) => sockets.push(socket)); // never answers
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const client = createS3Client({
      endpoint: `http://127.0.0.1:${address.port}`,
      region: 'us-east-1',
      credentials,
      maxAttempts: 1,
      socketTimeoutMs: 300,
    });
    try {
      const started = Date.now();
      const failure = await client.send(new HeadBucketCommand({ Bucket: 'b' })).catch((error: unknown) => error);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(failure).toBeInstanceOf(Error);
      expect(isTransientS3Error(failure)).toBe(true);
    } finally {
      client.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
