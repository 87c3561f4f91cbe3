/**
 * Store events: one JSON line per result a run reused or computed, appended to $TANGENT_STORE_EVENTS
 * (set per notebook by the runner, like $TANGENT_CLAIMS_FILE), so that run.json and the report can say
 * how many results were computed and reused, under which code fingerprint(s).
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';

export interface StoreEvent {
  event: 'computed' | 'reused';
  experiment: string;
  key: string;
  /** Task name, or null for a closure keyed by its config. */
  task: string | null;
  fingerprint: string;
  /** Time to read (reused) or compute (computed) the result. */
  ms: number;
}

/** Appends `e` (with the time) to $TANGENT_STORE_EVENTS when that is set. */
export function recordStoreEvent(e: StoreEvent, env: NodeJS.ProcessEnv = process.env): void {
  const file = env.TANGENT_STORE_EVENTS?.trim();
  if (!file) return;
  appendFileSync(file, `${JSON.stringify({ ...e, ms: Math.round(e.ms), at: new Date().toISOString() })}\n`);
}

/** Events recorded in a JSON-lines file (lines that do not parse are skipped). */
export function readStoreEvents(file: string): StoreEvent[] {
  if (!existsSync(file)) return [];
  const out: StoreEvent[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as StoreEvent);
    } catch {
      // a line cut by a killed writer
    }
  }
  return out;
}

export interface StoreSummary {
  computed: number;
  reused: number;
  /** Per code fingerprint: counts and the tasks (or experiments, for closures) run under it. */
  fingerprints: Record<string, { computed: number; reused: number; tasks: string[] }>;
}

/** Counts of computed and reused results, in total and per fingerprint. */
export function summarizeStoreEvents(events: readonly StoreEvent[]): StoreSummary {
  const s: StoreSummary = { computed: 0, reused: 0, fingerprints: {} };
  for (const e of events) {
    const f = (s.fingerprints[e.fingerprint] ??= { computed: 0, reused: 0, tasks: [] });
    const what = e.task ?? `${e.experiment} (closure)`;
    if (!f.tasks.includes(what)) f.tasks.push(what);
    if (e.event === 'computed') {
      s.computed++;
      f.computed++;
    } else {
      s.reused++;
      f.reused++;
    }
  }
  return s;
}
