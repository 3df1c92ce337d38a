import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../src/auth/scram.js';
import { checkPassword } from '../../src/auth/users.js';
import type { CliContext } from '../../src/cli/context.js';
import { userCommand } from '../../src/cli/user.js';
import { parseConfig } from '../../src/config/load.js';
import { openSqliteStore, sqlitePath } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { tempDataDir } from '../store/temp-dir.js';

interface Run {
  code: number;
  out: string[];
  err: string[];
}

describe('vigil user', () => {
  let tmp: ReturnType<typeof tempDataDir>;
  let stores: Store[];
  const configText = () => `data_dir: ${JSON.stringify(tmp.dir)}\nhosts:\n  localhost: {}\n  example.com: {}\n`;

  const run = async (argv: string[], stdin?: string): Promise<Run> => {
    const out: string[] = [];
    const err: string[] = [];
    const ctx: CliContext = {
      loaded: parseConfig(configText(), join(tmp.dir, '..', 'vigil.yaml')),
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      ...(stdin === undefined ? {} : { stdin: Readable.from([Buffer.from(stdin)]) }),
    };
    const code = await userCommand(argv, ctx);
    return { code, out, err };
  };
  const openStore = (): Store => {
    const s = openSqliteStore(tmp.dir);
    stores.push(s);
    return s;
  };

  beforeEach(() => {
    tmp = tempDataDir('vigil-cli-');
    stores = [];
  });
  afterEach(() => {
    for (const s of stores) s.close();
    tmp.cleanup();
  });

  describe('add', () => {
    it('creates the account with both SCRAM credentials (4096 iterations), never the password', async () => {
      const r = await run(['add', 'alice@localhost', '--password', 'wonderland']);
      expect(r).toEqual({ code: 0, out: ['added alice@localhost'], err: [] });
      const store = openStore();
      const rec = store.users.get('localhost', 'alice')!;
      expect(rec.scramSha1!.iterations).toBe(4096);
      expect(rec.scramSha256!.iterations).toBe(4096);
      expect(verifyPassword('sha1', rec.scramSha1!, 'wonderland')).toBe(true);
      expect(checkPassword(store, 'localhost', 'alice', 'wonderland')).toBe(true);
      const db = (await import('node:fs')).readFileSync(sqlitePath(tmp.dir));
      expect(db.includes(Buffer.from('wonderland'))).toBe(false);
    });

    it('normalises the JID (lower-case localpart and domain)', async () => {
      expect((await run(['add', 'Alice@LocalHost.', '--password', 'pw'])).out).toEqual(['added alice@localhost']);
      expect(openStore().users.get('localhost', 'alice')).toBeDefined();
    });

    it('refuses a host that is not configured, naming the configured hosts', async () => {
      const r = await run(['add', 'bob@nowhere.org', '--password', 'pw']);
      expect(r.code).toBe(1);
      expect(r.err.join('\n')).toMatch(/"nowhere\.org" is not configured .*configured hosts: example\.com, localhost/);
    });

    it('refuses an existing account', async () => {
      await run(['add', 'alice@localhost', '--password', 'pw']);
      const r = await run(['add', 'alice@localhost', '--password', 'other']);
      expect(r.code).toBe(1);
      expect(r.err[0]).toContain('VIGIL_ERR_USER_EXISTS');
      expect(checkPassword(openStore(), 'localhost', 'alice', 'pw')).toBe(true);
    });

    it('reads the password from a file, without its trailing newline', async () => {
      const file = join(tmp.dir, '..', 'pw.txt');
      writeFileSync(file, 'from file\n');
      expect((await run(['add', 'carol@example.com', '--password-file', file])).code).toBe(0);
      expect(checkPassword(openStore(), 'example.com', 'carol', 'from file')).toBe(true);
    });

    it('reads the password from stdin with --password -', async () => {
      expect((await run(['add', 'dave@example.com', '--password', '-'], 's3cret\r\n')).code).toBe(0);
      expect(checkPassword(openStore(), 'example.com', 'dave', 's3cret')).toBe(true);
    });

    it.each([
      ['an empty --password', ['--password', ''], undefined],
      ['an empty stdin', ['--password', '-'], ''],
      ['a stdin with only a newline', ['--password', '-'], '\n'],
      ['a control character', ['--password', 'a\u0007b'], undefined],
    ])('refuses %s', async (_what, flags, stdin) => {
      const r = await run(['add', 'eve@localhost', ...flags], stdin);
      expect(r.code).toBe(1);
      expect(r.err[0]).toMatch(/refusing the password/);
      expect(openStore().users.count()).toBe(0);
    });

    it('reports an unreadable password file', async () => {
      const r = await run(['add', 'eve@localhost', '--password-file', '/nonexistent/pw']);
      expect(r.code).toBe(1);
      expect(r.err[0]).toContain('ENOENT');
    });

    it.each([
      ['no password', ['add', 'eve@localhost']],
      ['both password options', ['add', 'eve@localhost', '--password', 'a', '--password-file', 'f']],
      ['no JID', ['add', '--password', 'a']],
      ['an extra argument', ['add', 'eve@localhost', 'more', '--password', 'a']],
      ['an unknown option', ['add', 'eve@localhost', '--pasword', 'a']],
    ])('is a usage error with %s (exit 2)', async (_what, argv) => {
      const r = await run(argv);
      expect(r.code).toBe(2);
      expect(r.err.join('\n')).toContain('Usage: vigil user add');
    });

    it.each([['localhost'], ['a@localhost/phone'], ['a b@localhost'], ['a:b@localhost']])('refuses the JID %j (exit 1)', async (jid) => {
      const r = await run(['add', jid, '--password', 'pw']);
      expect(r.code).toBe(1);
      expect(r.err[0]).toContain('VIGIL_ERR_BAD_JID');
    });
  });

  describe('passwd', () => {
    it('replaces the credentials of an existing account, keeping its creation time', async () => {
      await run(['add', 'alice@localhost', '--password', 'old']);
      const before = openStore().users.get('localhost', 'alice')!;
      expect(await run(['passwd', 'alice@localhost', '--password', '-'], 'new\n')).toEqual({
        code: 0,
        out: ['password changed for alice@localhost'],
        err: [],
      });
      const s = openStore();
      expect(checkPassword(s, 'localhost', 'alice', 'new')).toBe(true);
      expect(checkPassword(s, 'localhost', 'alice', 'old')).toBe(false);
      expect(s.users.get('localhost', 'alice')!.createdAt).toBe(before.createdAt);
    });

    it('fails on an unknown account and needs a password', async () => {
      const r = await run(['passwd', 'ghost@localhost', '--password', 'x']);
      expect(r.code).toBe(1);
      expect(r.err[0]).toContain('VIGIL_ERR_USER_NOT_FOUND');
      expect((await run(['passwd', 'ghost@localhost'])).code).toBe(2);
    });
  });

  describe('del', () => {
    it('deletes the account and its roster', async () => {
      await run(['add', 'alice@localhost', '--password', 'pw']);
      const s = openStore();
      s.rosters.put('localhost', 'alice', { jid: 'bob@localhost', name: null, subscription: 'both', askOut: false, pendingIn: false, approved: false, groups: [] });
      expect(await run(['del', 'Alice@localhost'])).toEqual({ code: 0, out: ['deleted alice@localhost'], err: [] });
      expect(s.users.get('localhost', 'alice')).toBeUndefined();
      expect(s.rosters.count('localhost', 'alice')).toBe(0);
    });

    it('fails on an unknown account', async () => {
      const r = await run(['del', 'ghost@localhost']);
      expect(r.code).toBe(1);
      expect(r.err[0]).toContain('VIGIL_ERR_USER_NOT_FOUND');
    });

    it('is a usage error without a JID', async () => {
      expect((await run(['del'])).code).toBe(2);
    });
  });

  describe('list', () => {
    it('prints one JID per line, sorted by host then user, optionally for one host', async () => {
      for (const jid of ['zoe@localhost', 'bob@example.com', 'amy@localhost', 'al@example.com']) {
        await run(['add', jid, '--password', 'pw']);
      }
      expect((await run(['list'])).out).toEqual(['al@example.com', 'bob@example.com', 'amy@localhost', 'zoe@localhost']);
      expect(await run(['list', 'LOCALHOST'])).toEqual({ code: 0, out: ['amy@localhost', 'zoe@localhost'], err: [] });
    });

    it('prints nothing when there are no accounts', async () => {
      expect(await run(['list'])).toEqual({ code: 0, out: [], err: [] });
    });

    it('refuses a host that is not configured', async () => {
      const r = await run(['list', 'other.org']);
      expect(r.code).toBe(1);
      expect(r.err[0]).toContain('configured hosts: example.com, localhost');
    });
  });

  describe('help and usage', () => {
    it.each([[['--help']], [['-h']], [['add', '--help']], [['del', '--help']], [['list', '-h']], [['passwd', '--help']]])('%j prints usage on stdout, exit 0', async (argv) => {
      const r = await run(argv);
      expect(r.code).toBe(0);
      expect(r.out[0]).toMatch(/^Usage: vigil user/);
      expect(r.err).toEqual([]);
    });

    it('exits 2 without a command or with an unknown one', async () => {
      expect((await run([])).code).toBe(2);
      const r = await run(['rename', 'a@localhost']);
      expect(r.code).toBe(2);
      expect(r.err[0]).toContain('unknown command "rename"');
    });
  });

  describe('beside a running server', () => {
    it('writes while another connection has the database open and both see each other', async () => {
      const server = openStore();
      server.retained.put('localhost', { topic: 't', payload: Buffer.from('x'), qos: 0, properties: null, storedAt: 1 });
      expect((await run(['add', 'alice@localhost', '--password', 'pw'])).code).toBe(0);
      expect(checkPassword(server, 'localhost', 'alice', 'pw')).toBe(true);
      server.users.put({ ...server.users.get('localhost', 'alice')!, user: 'bob' });
      expect((await run(['list', 'localhost'])).out).toEqual(['alice@localhost', 'bob@localhost']);
    });

    it('waits for a write lock held by another process instead of failing (busy_timeout)', async () => {
      openStore().close(); // create the schema
      const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
      const holder = `
        const Database = require(process.argv[1]);
        const db = new Database(process.argv[2]);
        db.exec('BEGIN IMMEDIATE');
        db.prepare("INSERT INTO kv VALUES ('holder', 'yes')").run();
        process.stdout.write('locked\\n');
        setTimeout(() => { db.exec('COMMIT'); db.close(); }, 400);`;
      const child = spawn(process.execPath, ['-e', holder, sqlite, sqlitePath(tmp.dir)], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise((r) => child.once('exit', r));
      await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve()));
      const t0 = performance.now();
      const r = await run(['add', 'alice@localhost', '--password', 'pw']);
      const waited = performance.now() - t0;
      await exited;
      expect(r.code).toBe(0);
      expect(waited).toBeGreaterThan(200);
      expect(openStore().kv.get('holder')).toBe('yes');
    });
  });
});
