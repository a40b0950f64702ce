/**
 * CPU time spent, per process, read from /proc (Linux): what one call costs each party (server, PostgreSQL, the
 * benchmark's client), which the rate alone hides on a machine shared with other work.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Linux reports CPU time in clock ticks of 1/100 s (USER_HZ) on every platform it runs on here. */
const TICKS_PER_S = 100;

/** User plus system CPU seconds of a process, or null when it is gone. */
function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name in parentheses: state is field 3, utime 14 and stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
  } catch {
    return null;
  }
}

/** PostgreSQL's backends serving `database` (their title names it), with their CPU seconds. */
function backends(database: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const title = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (!title.startsWith('postgres: ') || !title.includes(` ${database} `)) continue;
      const s = cpuSeconds(Number(entry));
      if (s !== null) out.set(Number(entry), s);
    } catch {
      // The process ended while being read.
    }
  }
  return out;
}

export interface CpuSpent {
  serverS: number;
  postgresS: number;
  clientS: number;
}

/** Starts counting the CPU of the server process(es), of the backends of `database` and of this process; the answer stops it. */
export function countCpu(serverPids: number | number[], database: string): () => CpuSpent {
  const pids = ([] as number[]).concat(serverPids);
  const serverNow = () => pids.reduce((sum, pid) => sum + (cpuSeconds(pid) ?? 0), 0);
  const server = serverNow();
  const pg = backends(database);
  const client = process.cpuUsage();
  return () => {
    let postgresS = 0;
    // A backend that started meanwhile counts whole; one that ended is lost (pools keep theirs open).
    for (const [pid, s] of backends(database)) postgresS += s - (pg.get(pid) ?? 0);
    const used = process.cpuUsage(client);
    // A server that exited meanwhile reads as 0 from then on; the runs that use this keep theirs up until the answer.
    return { serverS: serverNow() - server, postgresS, clientS: (used.user + used.system) / 1e6 };
  };
}
