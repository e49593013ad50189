/** What the fuzz run counted, and the compact table it prints. */

export class Tally {
  cases = 0;
  steps = 0;
  bytesSent = 0;
  maxMs = 0;
  readonly casesByKind = new Map<string, number>();
  readonly outcomes = new Map<string, number>();
  readonly reasons = new Map<string, number>();
  /** Milestones worth counting (uploads completed, foreign origins refused, …). */
  readonly notes = new Map<string, number>();
  readonly failures: string[] = [];
  readonly #latencies: number[] = [];
  sentinelClicks = 0;
  sentinelOk = 0;
  reconnects = 0;

  count(map: Map<string, number>, key: string, n = 1): void {
    map.set(key, (map.get(key) ?? 0) + n);
  }

  /** The slowest answer per case kind. */
  readonly maxMsByKind = new Map<string, number>();

  latency(ms: number, kind: string): void {
    if (ms > this.maxMs) this.maxMs = ms;
    if (ms > (this.maxMsByKind.get(kind) ?? 0)) this.maxMsByKind.set(kind, ms);
    // a uniform sample is enough for percentiles
    if (this.#latencies.length < 20_000) this.#latencies.push(ms);
    else this.#latencies[Math.floor(Math.random() * this.#latencies.length)] = ms;
  }

  percentile(p: number): number {
    const sorted = [...this.#latencies].sort((a, b) => a - b);
    return sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number);
  }

  fail(message: string): void {
    if (this.failures.length < 50) this.failures.push(message.slice(0, 12_000));
  }
}

/** `a=1 b=2` sorted by count, largest first. */
export function inline(map: Map<string, number> | Record<string, number>): string {
  const entries = map instanceof Map ? [...map] : Object.entries(map);
  return entries
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k}=${v}`)
    .join('  ');
}

/** Two aligned columns. */
export function table(title: string, rows: readonly (readonly [string, string | number])[]): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return [`── ${title} ${'─'.repeat(Math.max(0, 60 - title.length))}`, ...rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`)].join('\n');
}

export const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
