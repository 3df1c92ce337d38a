import Database from 'better-sqlite3';
import { memorySessions } from '../../src/store/memory-sessions.js';
import { SESSIONS_MIGRATION, sqliteSessions } from '../../src/store/sqlite/sessions.js';
import { sessionRepoContract } from './session-repo.contract.js';

sessionRepoContract('memory', () => ({ repo: memorySessions(), cleanup: () => {} }));

sessionRepoContract('sqlite', () => {
  const db = new Database(':memory:');
  db.exec(SESSIONS_MIGRATION.sql);
  return { repo: sqliteSessions(db), cleanup: () => db.close() };
});
