/**
 * Aedes (devDependency) as its own process for the comparison suite: one broker with the default
 * in-memory persistence on 127.0.0.1:PORT, no authentication. Plain JavaScript so that it runs on
 * bare node (no TypeScript loader in the measured process). Prints `aedes_ready PORT` once listening.
 * Usage: node bench/suite/aedes-server.mjs PORT [HEARTBEAT_MS]  (gateway tests shorten the $SYS heartbeat)
 */
/* global process, console */
import { createServer } from 'node:net';
import { Aedes } from 'aedes';

const port = Number(process.argv[2]);
const broker = await Aedes.createBroker({ heartbeatInterval: Number(process.argv[3] ?? 60_000) });
const server = createServer((s) => broker.handle(s));
server.listen(port, '127.0.0.1', () => console.log(`aedes_ready ${port}`));
const stop = () => {
  server.close();
  broker.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
