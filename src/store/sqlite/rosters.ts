/** roster_items table: one row per (host, user, contact bare JID); RFC 6121 §2.1 item state. */
import type { Database } from 'better-sqlite3';
import { decodeJson, encodeJson } from '../json.js';
import type { RosterItem, RosterRepo, Subscription } from '../types.js';

interface RosterRow {
  host: string;
  user: string;
  jid: string;
  name: string | null;
  subscription: Subscription;
  ask_out: number;
  pending_in: number;
  approved: number;
  groups_json: string;
}

function fromRow(r: RosterRow): RosterItem {
  return {
    jid: r.jid,
    name: r.name,
    subscription: r.subscription,
    askOut: r.ask_out !== 0,
    pendingIn: r.pending_in !== 0,
    approved: r.approved !== 0,
    groups: decodeJson<string[]>(r.groups_json),
  };
}

export function sqliteRosters(db: Database): RosterRepo {
  const list = db.prepare<[string, string], RosterRow>('SELECT * FROM roster_items WHERE host = ? AND user = ? ORDER BY jid');
  const get = db.prepare<[string, string, string], RosterRow>(
    'SELECT * FROM roster_items WHERE host = ? AND user = ? AND jid = ?',
  );
  const put = db.prepare<RosterRow>(
    `INSERT OR REPLACE INTO roster_items VALUES
       (@host, @user, @jid, @name, @subscription, @ask_out, @pending_in, @approved, @groups_json)`,
  );
  const del = db.prepare<[string, string, string]>('DELETE FROM roster_items WHERE host = ? AND user = ? AND jid = ?');
  const clear = db.prepare<[string, string]>('DELETE FROM roster_items WHERE host = ? AND user = ?');
  const count = db.prepare<[string, string], { n: number }>(
    'SELECT count(*) AS n FROM roster_items WHERE host = ? AND user = ?',
  );
  return {
    list: (host, user) => list.all(host, user).map(fromRow),
    get(host, user, jid) {
      const row = get.get(host, user, jid);
      return row && fromRow(row);
    },
    put(host, user, item) {
      put.run({
        host,
        user,
        jid: item.jid,
        name: item.name,
        subscription: item.subscription,
        ask_out: item.askOut ? 1 : 0,
        pending_in: item.pendingIn ? 1 : 0,
        approved: item.approved ? 1 : 0,
        groups_json: encodeJson(item.groups),
      });
    },
    delete: (host, user, jid) => del.run(host, user, jid).changes > 0,
    clear(host, user) {
      clear.run(host, user);
    },
    count: (host, user) => count.get(host, user)?.n ?? 0,
  };
}
