// An emulated network link between a browser and a server on loopback: a TCP
// proxy that forwards each direction at a fixed rate (100 Mbit/s by default)
// and delays every byte by half the round trip (25 ms each way by default).
// It works on the byte stream, so it applies to WebSocket frames exactly as to
// HTTP. Its queue is bounded (the bottleneck buffer): when it is full the
// proxy stops reading, so the sender feels the link through TCP backpressure
// (a browser's WebSocket bufferedAmount grows) rather than through loss.
//
// This machine's kernel has no netem qdisc (tc says "Specified qdisc kind is
// unknown"), so the delay cannot be made by the kernel. What the proxy does
// not model: TCP's own slow start and loss recovery on a 50 ms path (each of
// its two TCP legs is on loopback).
import { createServer, connect } from 'node:net';

/**
 * Starts the link in front of `targetPort`. Returns { port, close(), stats }.
 *   rateBitsPerSec  default 100e6
 *   oneWayDelayMs   default 25 (50 ms round trip)
 *   queueBytes      bottleneck buffer per direction, default 2 x the bandwidth-delay product
 */
export function startLink({ targetPort, rateBitsPerSec = 100e6, oneWayDelayMs = 25, queueBytes } = {}) {
  const bytesPerMs = rateBitsPerSec / 8 / 1000;
  const limit = queueBytes ?? Math.max(256 * 1024, Math.round(2 * bytesPerMs * 2 * oneWayDelayMs));
  // `bulk`: full-size pieces delivered upstream (uploads), with the first and last delivery time,
  // so a run's data phase can be told from its small control messages.
  const stats = { up: 0, down: 0, connections: 0, bulk: { bytes: 0, first: 0, last: 0 } };
  const piece = Math.max(1460, Math.round(bytesPerMs));
  const sockets = new Set();

  /** One direction: bytes leave `from` at the link rate and arrive at `to` one delay later. */
  function direction(from, to, counter) {
    const queue = []; // { at: deliver time (ms), data }
    let queued = 0;
    let lastDeparture = 0;
    let timer = null;
    let paused = false;
    const pump = () => {
      timer = null;
      const now = performance.now();
      while (queue.length > 0 && queue[0].at <= now) {
        const { data } = queue.shift();
        queued -= data.length;
        stats[counter] += data.length;
        if (counter === 'up' && data.length === piece) {
          stats.bulk.first ||= now;
          stats.bulk.last = now;
          stats.bulk.bytes += data.length;
        }
        if (!to.destroyed) to.write(data);
      }
      if (paused && queued <= limit / 2) {
        paused = false;
        from.resume();
      }
      if (queue.length > 0) timer = setTimeout(pump, Math.max(0, queue[0].at - performance.now()));
    };
    from.on('data', (data) => {
      const now = performance.now();
      // Split into pieces of about 1 ms of link time, so delivery is smooth.
      for (let at = 0; at < data.length; at += piece) {
        const part = data.subarray(at, at + piece);
        lastDeparture = Math.max(now, lastDeparture) + part.length / bytesPerMs;
        queue.push({ at: lastDeparture + oneWayDelayMs, data: part });
        queued += part.length;
      }
      if (!paused && queued > limit) {
        paused = true;
        from.pause();
      }
      if (!timer) timer = setTimeout(pump, Math.max(0, queue[0].at - now));
    });
    from.on('end', () => {
      const wait = () => (queue.length === 0 ? to.end() : setTimeout(wait, 5));
      wait();
    });
  }

  const server = createServer((client) => {
    stats.connections++;
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    direction(client, upstream, 'up');
    direction(upstream, client, 'down');
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: server.address().port,
        stats,
        limit,
        /** Link use during the data phase since the last call: bulk bytes / (last - first delivery) / rate. */
        takeBulk: () => {
          const { bytes, first, last } = stats.bulk;
          stats.bulk = { bytes: 0, first: 0, last: 0 };
          return last > first ? { bytes, ms: last - first, use: bytes / (last - first) / bytesPerMs } : { bytes, ms: 0, use: NaN };
        },
        /** Cuts every connection now, as a dropped network does: bytes still queued in the link are lost. */
        cut: () => {
          for (const s of sockets) s.destroy();
        },
        close: () =>
          new Promise((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      }),
    );
  });
}
