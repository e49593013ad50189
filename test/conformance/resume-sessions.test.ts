/**
 * Every resumable-session store passes the shared cases
 * (`resumeSessionConformanceCases` from `inletjs/testing`): the in-process
 * default here; a shared implementation (Redis) runs the same cases.
 */
import { MemoryResumeSessionStore } from 'inletjs';
import { resumeSessionConformanceCases } from 'inletjs/testing';
import { describe, it } from 'vitest';

describe('MemoryResumeSessionStore', () => {
  for (const c of resumeSessionConformanceCases({ create: () => new MemoryResumeSessionStore() })) it(c.name, c.run);
});
