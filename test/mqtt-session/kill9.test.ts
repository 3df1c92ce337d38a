import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { sqliteSessions } from '../../src/store/sqlite/sessions.js';
import { tempDataDir } from '../store/temp-dir.js';

const tmp = tempDataDir('vigil-kill9-');
afterEach(() => tmp.cleanup());

it('loses no acknowledged queued message when the writer is killed with SIGKILL mid-stream', async () => {
  const tsx = createRequire(import.meta.url).resolve('tsx');
  const child = spawn(process.execPath, ['--import', tsx, fileURLToPath(new URL('./fixtures/queue-until-killed.ts', import.meta.url)), tmp.dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let acked = 0;
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
    child.stdout.on('data', (d: Buffer) => {
      for (const m of d.toString().matchAll(/acked (\d+)/g)) acked = Math.max(acked, Number(m[1]));
      if (acked >= 3000) resolve();
    });
  });
  child.removeAllListeners('exit');
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL'); // while it keeps writing
  await exited;
  const db = new Database(join(tmp.dir, 'sessions.db'));
  try {
    const queue = sqliteSessions(db).get('h', 'c')!.queue;
    const ns = queue.map((q) => Number(q.msg.payload.toString()));
    expect(ns.length).toBeGreaterThanOrEqual(acked);
    expect(ns.slice(0, acked)).toEqual(Array.from({ length: acked }, (_, i) => i));
    expect(queue.map((q) => q.seq)).toEqual(ns.map((n) => n + 1));
    expect(ns.length % 50).toBe(0); // whole batches (one transaction per turn), nothing torn
  } finally {
    db.close();
  }
}, 30_000);
