/**
 * Conformance cases for {@link ResumeSessionStore} implementations: the
 * in-process default runs them (test/conformance/resume-sessions.test.ts),
 * and so can a shared one (e.g. on Redis). Each case is a plain async
 * function that throws on failure.
 *
 * @example
 * for (const c of resumeSessionConformanceCases({ create: () => new MemoryResumeSessionStore() }))
 *   it(c.name, c.run)
 */
import { randomBytes } from 'node:crypto';
import type { ResumeKey, ResumeSession, ResumeSessionStore } from '../uploads/resume/session-store.js';
import type { ConformanceCase } from './writer-conformance.js';

/**
 * How the cases reach an implementation.
 *
 * @example
 * const target: ResumeSessionsUnderTest = { create: () => new RedisResumeSessionStore({ client: redis, prefix: `test:${randomUUID()}:` }) }
 * for (const c of resumeSessionConformanceCases(target)) it(c.name, c.run)
 */
export interface ResumeSessionsUnderTest {
  /** A fresh, empty store; called once per case. */
  create(): ResumeSessionStore | Promise<ResumeSessionStore>;
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`resume session conformance: ${message}`);
}

const LIMITS = { perOwner: 100, total: 1000 };
const T0 = 1_700_000_000_000;

function key(over: Partial<ResumeKey> = {}): ResumeKey {
  return { owner: 'owner-a', config: 'files', fingerprint: 'a'.repeat(64), size: 1000, ...over };
}

function session(over: Partial<ResumeSession> = {}): ResumeSession {
  return { ...key(), id: randomBytes(12).toString('base64url'), clientName: 'f.bin', state: 'attached', offset: 0, createdAt: T0, updatedAt: T0, ...over };
}

/** Adds a session and parks it at `offset`, `updatedAt` = `at`. */
async function parked(store: ResumeSessionStore, over: Partial<ResumeSession> = {}, offset = 100, at = T0): Promise<ResumeSession> {
  const s = session(over);
  const added = await store.add(s, LIMITS, at);
  check(added.added, 'add of a session under the caps was refused');
  await store.park(s.id, { offset, updatedAt: at });
  return s;
}

/**
 * The cases every {@link ResumeSessionStore} must pass.
 *
 * @example
 * for (const c of resumeSessionConformanceCases({ create: () => myStore })) it(c.name, c.run)
 */
export function resumeSessionConformanceCases(sut: ResumeSessionsUnderTest): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  const add = (name: string, run: (store: ResumeSessionStore) => Promise<void>) =>
    cases.push({ name, run: async () => run(await sut.create()) });

  add('a parked session is claimed by its key and by its id, and becomes attached', async (store) => {
    const s = await parked(store, {}, 300);
    const got = await store.claim(key(), undefined, T0 + 5, T0 - 1);
    check(got?.id === s.id && got.state === 'attached' && got.offset === 300, `claim by key gave ${JSON.stringify(got)}`);
    check(got.updatedAt === T0 + 5, 'a claim must bump updatedAt');
    await store.park(s.id, { offset: 400, updatedAt: T0 + 6 });
    const byId = await store.claim(key(), s.id, T0 + 7, T0 - 1);
    check(byId?.id === s.id && byId.offset === 400, 'claim by id after a second park');
  });

  add('an attached session is not claimable (a replayed claim gets nothing)', async (store) => {
    const s = await parked(store);
    check((await store.claim(key(), s.id, T0, T0 - 1)) !== undefined, 'first claim');
    check((await store.claim(key(), s.id, T0, T0 - 1)) === undefined, 'second claim of an attached session succeeded');
    check((await store.claim(key(), undefined, T0, T0 - 1)) === undefined, 'claim by key of an attached session succeeded');
  });

  add('a claim with another owner, config, fingerprint or size gets nothing and changes nothing', async (store) => {
    const s = await parked(store);
    for (const other of [key({ owner: 'owner-b' }), key({ config: 'other' }), key({ fingerprint: 'b'.repeat(64) }), key({ size: 1001 })]) {
      check((await store.claim(other, s.id, T0 + 1, T0 - 1)) === undefined, `claim with ${JSON.stringify(other)} succeeded`);
      check((await store.claim(other, undefined, T0 + 1, T0 - 1)) === undefined, `claim by key ${JSON.stringify(other)} succeeded`);
    }
    const still = await store.get(s.id);
    check(still?.state === 'parked' && still.updatedAt === T0, 'a refused claim touched the session');
  });

  add('an id that names another session with the same key is not taken instead', async (store) => {
    const a = await parked(store);
    check((await store.claim(key(), 'no-such-session-id', T0, T0 - 1)) === undefined, 'claim by an unknown id succeeded');
    check((await store.get(a.id))?.state === 'parked', 'the other session was claimed');
  });

  add('a session idle since before idleSince is not claimable, and expire removes it', async (store) => {
    const old = await parked(store, {}, 10, T0);
    const fresh = await parked(store, { fingerprint: 'c'.repeat(64) }, 10, T0 + 1000);
    check((await store.claim(key(), old.id, T0 + 2000, T0 + 500)) === undefined, 'an expired session was claimed');
    const gone = await store.expire(T0 + 500);
    check(gone.length === 1 && gone[0]?.id === old.id, `expire removed ${JSON.stringify(gone.map((g) => g.id))}`);
    check((await store.get(old.id)) === undefined, 'expired session still there');
    check((await store.get(fresh.id)) !== undefined, 'a fresh session expired');
  });

  add('attached sessions never expire', async (store) => {
    const s = session();
    await store.add(s, LIMITS, T0);
    check((await store.expire(T0 + 10_000_000)).length === 0, 'an attached session expired');
  });

  add('the cap per owner evicts the least recently active parked session, and refuses when all are attached', async (store) => {
    const limits = { perOwner: 2, total: 100 };
    const a = session({ fingerprint: '1'.repeat(64), updatedAt: T0 });
    const b = session({ fingerprint: '2'.repeat(64), updatedAt: T0 });
    check((await store.add(a, limits, T0)).added, 'add a');
    check((await store.add(b, limits, T0)).added, 'add b');
    await store.park(a.id, { offset: 1, updatedAt: T0 + 1 });
    await store.park(b.id, { offset: 1, updatedAt: T0 + 2 });
    const c = session({ fingerprint: '3'.repeat(64) });
    const added = await store.add(c, limits, T0 + 3);
    check(added.added && added.evicted.length === 1 && added.evicted[0]?.id === a.id, `evicted ${JSON.stringify(added)}`);
    check((await store.get(a.id)) === undefined, 'evicted session still there');
    check((await store.claim(key({ fingerprint: '2'.repeat(64) }), b.id, T0 + 4, 0)) !== undefined, 'claim b');
    const d = session({ fingerprint: '4'.repeat(64) });
    check(!(await store.add(d, limits, T0 + 5)).added, 'added past the cap with every session attached');
    check((await store.get(d.id)) === undefined, 'a refused add left a session');
    const otherOwner = session({ owner: 'owner-b' });
    check((await store.add(otherOwner, limits, T0 + 5)).added, 'another owner was refused by the first owner’s cap');
  });

  add('the total cap evicts any owner’s least recently active parked session', async (store) => {
    const limits = { perOwner: 100, total: 2 };
    const a = await parked(store, { owner: 'o1' }, 1, T0 + 1);
    await parked(store, { owner: 'o2' }, 1, T0 + 2);
    const added = await store.add(session({ owner: 'o3' }), limits, T0 + 3);
    check(added.added && added.evicted.map((e) => e.id).join() === a.id, `evicted ${JSON.stringify(added)}`);
  });

  add('of two racing claims, one wins', async (store) => {
    const s = await parked(store);
    const results = await Promise.all([store.claim(key(), s.id, T0 + 1, 0), store.claim(key(), s.id, T0 + 1, 0), store.claim(key(), undefined, T0 + 1, 0)]);
    check(results.filter((r) => r !== undefined).length === 1, `${results.filter((r) => r !== undefined).length} claims won`);
  });

  add('remove forgets a session; records survive a JSON round trip', async (store) => {
    const s = await parked(store, { clientType: 'image/png' }, 42);
    const got = await store.get(s.id);
    check(got && JSON.stringify(JSON.parse(JSON.stringify(got))) === JSON.stringify(got), 'not JSON-safe');
    check(got.clientType === 'image/png' && got.offset === 42 && got.size === 1000, `fields lost: ${JSON.stringify(got)}`);
    await store.remove(s.id);
    check((await store.get(s.id)) === undefined, 'removed session still there');
    check((await store.claim(key(), s.id, T0, 0)) === undefined, 'removed session claimable');
  });

  return cases;
}
