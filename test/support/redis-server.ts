import { spawn, type ChildProcess } from 'node:child_process';

/**
 * A redis-server of a test's own on a free port, so stopping it disturbs nothing else on the machine. The port is
 * below Linux's ephemeral range (32768–60999), where no outgoing connection can be holding it when the server starts
 * or restarts on it, and above the machine's own services (RabbitMQ's 25672).
 */
export class RedisServer {
  private child: ChildProcess | null = null;
  readonly port = 26_000 + Math.floor(Math.random() * 6_000);
  readonly url = `redis://127.0.0.1:${this.port}`;

  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Ready to accept connections')) resolve();
      });
      child.once('exit', () => reject(new Error(`redis-server exited: ${out}`)));
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  }
}
