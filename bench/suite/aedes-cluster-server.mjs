/**
 * Aedes in its own cluster mode for `npm run bench -- cluster`: one broker process of a cluster,
 * mqemitter-redis (messages between brokers over Redis pub/sub) and aedes-persistence-redis
 * (sessions, subscriptions, retained messages in Redis), both devDependencies. Plain JavaScript on
 * bare node. Prints `aedes_ready PORT` once listening.
 * Usage: node bench/suite/aedes-cluster-server.mjs PORT REDIS_PORT
 */
/* global process, console */
import { createServer } from 'node:net';
import { Aedes } from 'aedes';
import mqemitterRedis from 'mqemitter-redis';
import persistenceRedis from 'aedes-persistence-redis';

const port = Number(process.argv[2]);
const redis = { host: '127.0.0.1', port: Number(process.argv[3]) };
const broker = await Aedes.createBroker({ mq: mqemitterRedis({ ...redis }), persistence: persistenceRedis({ ...redis }), heartbeatInterval: 60_000 });
const server = createServer((s) => broker.handle(s));
server.listen(port, '127.0.0.1', () => console.log(`aedes_ready ${port}`));
const stop = () => {
  server.close();
  broker.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
