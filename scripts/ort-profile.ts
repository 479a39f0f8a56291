// Reads onnxruntime's session profiles (the Chrome-trace JSON it writes with enableProfiling: a
// file per session in Node, console lines in onnxruntime-web) into a per-op-type table, for
// `npm run bench:engine -- --profile`. The first run of each session (allocation, first touch) is
// left out; each node counts with its median kernel time over the other runs, so a run slowed by
// other load on a shared machine moves the table little.

interface TraceEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string };
}

/** Op type → [nodes, ms a run (sum over its nodes of their median)], largest first; and the total. */
export interface OpTable {
  runs: number;
  kernel_ms: number;
  ops: Record<string, [number, number]>;
}

/** Splits onnxruntime-web's console output (one event a line, each session's between '[' and ']') into sessions. */
export function sessionsFromConsole(lines: string[]): TraceEvent[][] {
  const sessions: TraceEvent[][] = [];
  let cur: TraceEvent[] | undefined;
  for (const l of lines) {
    const t = l.trim();
    if (t === '[') cur = [];
    else if (t === ']' && cur) {
      sessions.push(cur);
      cur = undefined;
    } else if (cur && t.startsWith('{')) cur.push(JSON.parse(t.replace(/,$/, '')) as TraceEvent);
  }
  return sessions;
}

export function opTable(sessions: TraceEvent[][]): OpTable {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1];
  const byOp = new Map<string, { nodes: number; us: number }>();
  let runs = 0;
  for (const events of sessions) {
    const timed = events.filter((e) => e.name === 'model_run').sort((a, b) => a.ts - b.ts).slice(1);
    runs = Math.max(runs, timed.length);
    const perNode = new Map<string, { op: string; us: number[] }>();
    for (const e of events) {
      if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
      if (!timed.some((r) => e.ts >= r.ts && e.ts <= r.ts + r.dur)) continue;
      const n = perNode.get(e.name) ?? { op: e.args?.op_name ?? '?', us: [] };
      n.us.push(e.dur);
      perNode.set(e.name, n);
    }
    for (const { op, us } of perNode.values()) {
      const o = byOp.get(op) ?? { nodes: 0, us: 0 };
      o.nodes++;
      o.us += median(us);
      byOp.set(op, o);
    }
  }
  const ms = (us: number) => Math.round(us / 100) / 10;
  const sorted = [...byOp].sort((a, b) => b[1].us - a[1].us);
  return {
    runs,
    kernel_ms: ms(sorted.reduce((n, [, o]) => n + o.us, 0)),
    ops: Object.fromEntries(sorted.map(([op, o]) => [op, [o.nodes, ms(o.us)]])),
  };
}
