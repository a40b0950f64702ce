/**
 * The ceiling of a call: Socket.IO on uWebSockets.js answering an ack, nothing else (no auth, no
 * validation, no database). Started by ceilings.bench.ts as its own process; prints its port.
 */
import { Server } from 'socket.io';
import { loadNativeUws } from '../server/http/uws.js';

const uws = loadNativeUws();
const app = uws.App();
const io = new Server({ serveClient: false });
io.attachApp(app);
io.on('connection', (socket) => {
  socket.on('ping', (_input: unknown, ack: (r: unknown) => void) => ack({ ok: true, data: {} }));
});
app.listen('127.0.0.1', 0, (token) => {
  if (!token) process.exit(1);
  process.stdout.write(`bare listening on ${uws.us_socket_local_port(token)}\n`);
});
process.on('SIGTERM', () => process.exit(0));
