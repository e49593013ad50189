/**
 * The test cluster itself: three nodes behind HAProxy with no affinity.
 * Requests through the proxy rotate over every node, a killed node drops out
 * and requests keep succeeding on the others.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from './topology.js';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster({ nodes: 3 });
});
afterAll(() => cluster?.stop());

async function whoAnswers(n: number): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${cluster.url}/__node`);
    names.push(((await res.json()) as { name: string }).name);
  }
  return names;
}

describe('test cluster', () => {
  it('balances consecutive requests round-robin over all three nodes, with no affinity', async () => {
    const names = await whoAnswers(9);
    expect(new Set(names)).toEqual(new Set(['n1', 'n2', 'n3']));
    // Round-robin: no node twice in a row.
    for (let i = 1; i < names.length; i++) expect(names[i]).not.toBe(names[i - 1]);
  });

  it('a killed node drops out: every request still succeeds, on the survivors', async () => {
    const [n1] = cluster.nodes;
    await n1!.kill();
    const names = await whoAnswers(12);
    expect(names).not.toContain('n1');
    expect(new Set(names)).toEqual(new Set(['n2', 'n3']));
    await n1!.start();
    await expect.poll(async () => (await whoAnswers(6)).includes('n1'), { timeout: 10_000 }).toBe(true);
  });
});
