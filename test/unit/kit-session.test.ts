/**
 * The statements a kit session sends (internal/watcher/kit/transaction.ts), pinned on a recording
 * fake connection that answers `SHOW SESSION VARIABLES` as MySQL 8, MySQL 5.7 and MariaDB do: the
 * isolation level is set and put back without reading `@@tx_isolation` (gone in MySQL 8.0.3), and
 * batches cost no more round trips than the idioms they replace.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PoolConnection } from 'mysql2/promise';
import { ISOLATION_SQL, Session } from '../../internal/watcher/kit/transaction.js';

type Variables = ReadonlyArray<{ Variable_name: string; Value: string }>;

/** A connection that records each statement and answers SHOW with `variables`. */
function recording(variables: Variables): { conn: PoolConnection; sent: string[] } {
  const sent: string[] = [];
  const fake = {
    query(sql: string): Promise<[unknown, unknown[]]> {
      sent.push(sql);
      if (sql.startsWith('SHOW')) return Promise.resolve([variables.map((v) => ({ ...v })), []]);
      if (sql.startsWith('SELECT @@')) return Promise.reject(new Error(`Unknown system variable in ${sql}`));
      return Promise.resolve([{ affectedRows: 1 }, []]);
    },
  };
  return { conn: fake as unknown as PoolConnection, sent };
}

const SERVERS: ReadonlyArray<[name: string, variables: Variables, restored: string]> = [
  [
    'MySQL 8 (transaction_isolation only)',
    [{ Variable_name: 'transaction_isolation', Value: 'REPEATABLE-READ' }],
    'REPEATABLE READ',
  ],
  [
    'MySQL 5.7.20+ (both names)',
    [
      { Variable_name: 'transaction_isolation', Value: 'SERIALIZABLE' },
      { Variable_name: 'tx_isolation', Value: 'SERIALIZABLE' },
    ],
    'SERIALIZABLE',
  ],
  [
    'MariaDB 10 (tx_isolation only)',
    [{ Variable_name: 'tx_isolation', Value: 'READ-UNCOMMITTED' }],
    'READ UNCOMMITTED',
  ],
  ['a server that reports nothing', [], 'REPEATABLE READ'],
];

/** A session begun on a MySQL 8 fake, with the statements of its start forgotten. */
async function begun(): Promise<{ session: Session; sent: string[] }> {
  const { conn, sent } = recording(SERVERS[0]![1]);
  const session = await Session.begin(conn);
  sent.length = 0;
  return { session, sent };
}

void describe('kit session', () => {
  for (const [server, variables, restored] of SERVERS) {
    void it(`on ${server}: sets READ COMMITTED for the session and puts ${restored} back`, async () => {
      const { conn, sent } = recording(variables);
      const session = await Session.begin(conn);
      await session.statement('DELETE FROM t WHERE x LIMIT ?', [10]);
      await session.end();
      assert.deepEqual(sent, [
        "SHOW SESSION VARIABLES WHERE Variable_name IN ('transaction_isolation', 'tx_isolation')",
        'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED',
        'DELETE FROM t WHERE x LIMIT ?',
        `SET SESSION TRANSACTION ISOLATION LEVEL ${restored}`,
      ]);
      assert.equal(sent[0], ISOLATION_SQL.read);
      assert.ok(!sent.some((sql) => sql.includes('@@')), 'no system variable is read by name');
    });
  }

  void it('a one-statement batch is one round trip (autocommit)', async () => {
    const { session, sent } = await begun();
    await session.statement('DELETE 1', []);
    await session.statement('DELETE 2', []);
    assert.deepEqual(sent, ['DELETE 1', 'DELETE 2']);
  });

  void it('transactions chain: START TRANSACTION once, then each batch and one COMMIT AND CHAIN', async () => {
    const { session, sent } = await begun();
    await session.transaction((c) => c.query('UPDATE 1'));
    await session.transaction(async (c) => {
      await c.query('SELECT 2 FOR UPDATE');
      await c.query('UPDATE 2');
    });
    await session.end();
    assert.deepEqual(sent, [
      'START TRANSACTION',
      'UPDATE 1',
      'COMMIT AND CHAIN',
      'SELECT 2 FOR UPDATE',
      'UPDATE 2',
      'COMMIT AND CHAIN',
      'COMMIT',
      'SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ',
    ]);
  });

  void it('a failed transaction is rolled back and the next one begins afresh', async () => {
    const { session, sent } = await begun();
    await assert.rejects(
      session.transaction(async (c) => {
        await c.query('UPDATE 1');
        throw new Error('changed under us');
      }),
      /changed under us/,
    );
    await session.transaction((c) => c.query('UPDATE 2'));
    assert.deepEqual(sent, [
      'START TRANSACTION',
      'UPDATE 1',
      'ROLLBACK',
      'START TRANSACTION',
      'UPDATE 2',
      'COMMIT AND CHAIN',
    ]);
  });

  void it('a one-statement batch inside an open chain is committed with it', async () => {
    const { session, sent } = await begun();
    await session.transaction((c) => c.query('UPDATE 1'));
    sent.length = 0;
    await session.statement('DELETE 1', []);
    assert.deepEqual(sent, ['DELETE 1', 'COMMIT AND CHAIN']);
  });
});
