// The app database's migration, over fake-indexeddb (an in-memory IndexedDB for Node): a database
// a version-1 app wrote opens in today's schema with its records intact.
import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import { APP_DB_NAME, APP_DB_VERSION, appDb, type ProgressRound } from './train-db';

describe('the app database', () => {
  it('upgrades a version-1 database: takes and runs stay, the rounds store is added', async () => {
    const v1 = await openDB(APP_DB_NAME, 1, {
      upgrade(db) {
        for (const [name, keyPath] of [['models', 'id'], ['runs', 'id'], ['checkpoints', 'runId'], ['takes', 'id']]) db.createObjectStore(name, { keyPath });
      },
    });
    await v1.put('takes', { id: 't1', createdAt: 1, audio: new Uint8Array(4), duration: 1, status: 'accepted' });
    v1.close();

    const db = await appDb();
    expect(db.version).toBe(APP_DB_VERSION);
    expect([...db.objectStoreNames].sort()).toEqual(['checkpoints', 'models', 'rounds', 'runs', 'takes']);
    expect((await db.get('takes', 't1'))?.status).toBe('accepted');
    const round: ProgressRound = {
      id: 'run1',
      createdAt: 2,
      datasetId: 'rec',
      takes: 6,
      baseModelId: 'base',
      roundModelId: 'm1',
      currentModelId: 'm1',
      adopted: true,
      base: { wer: 0.5, cer: 0.25, takes: 1 },
      current: { wer: 0.25, cer: 0.1, takes: 1 },
      transcripts: [{ utteranceId: 'u1', ref: 'hello there', base: 'hello', current: 'hello there' }],
    };
    await db.put('rounds', round);
    expect(await db.get('rounds', 'run1')).toEqual(round);
  });
});
