/**
 * Random faults during uploads, against real servers over real sockets:
 * every fault kind in turn, then at random (socket: ./socket-faults.ts;
 * writer and disk: ./storage-faults.ts; chunk receiver: ./receiver-faults.ts).
 * Setup, profiles, knobs and oracles: ./harness.ts.
 */
import { describe as suite, it } from 'vitest';
import { FAULTS, figures, int, rand, SEED, T, useFaultServers, type Kind } from './harness.js';
import { receiverFault } from './receiver-faults.js';
import { socketFault } from './socket-faults.js';
import { storeFull, tmpFull, writerFault } from './storage-faults.js';
import { count, inline } from './support.js';

useFaultServers({ diskFull: true });

const KINDS: [string, Kind][] = [
  ['drop-between', socketFault('drop-between')],
  ['drop-mid-frame', socketFault('drop-mid-frame')],
  ['close-between', socketFault('close-between')],
  ['drop-before-100', socketFault('drop-before-100')],
  ['drop-after-100', socketFault('drop-after-100')],
  ['writer-init', writerFault(() => 'init')],
  ['writer-chunk', writerFault((chunks) => `chunk${int(1, chunks)}`)],
  ['writer-close', writerFault(() => 'close')],
  ['writer-slow', writerFault(() => `slow${int(1, 15)}`)],
  ['receiver-503', receiverFault('transient')],
  ['receiver-cut', receiverFault('cut')],
  ['receiver-permanent', receiverFault('permanent')],
  ['temp-full', tmpFull],
  ['store-full', storeFull],
];

suite('random faults during uploads', () => {
  it(`survives ${FAULTS} random faults: nothing corrupted presented as complete, every failure visible`, async () => {
    const started = Date.now();
    const ran = new Map<string, number>();
    for (let i = 0; i < FAULTS; i++) {
      // Every kind in turn first, then at random; the slow disk kinds less often.
      let [name, kind] = KINDS[i % KINDS.length]!;
      if (i >= KINDS.length) {
        [name, kind] = KINDS[int(0, KINDS.length - 1)]!;
        if ((name === 'temp-full' || name === 'store-full') && rand() < 0.6) [name, kind] = KINDS[int(0, 8)]!;
      }
      count(ran, name);
      try {
        await kind(i);
      } catch (e) {
        throw new Error(`fault #${i} (${name}, seed ${SEED}) failed: ${(e as Error).message}`, { cause: e });
      }
    }
    figures.push(['random faults run', `${FAULTS} in ${((Date.now() - started) / 1000).toFixed(1)} s`]);
    figures.push(['  by kind', inline(ran)]);
  }, T);
});
