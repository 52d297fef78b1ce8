// Postgres driver instances an app creates itself and hands to Ballast (an ioredis client is in
// ../esm-strict, since ioredis's types need no skipLibCheck). Type-checked, not run.
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { BallastModule, QueueService, type BallastModuleOptions } from 'nestjs-ballast';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 5 });
const pglite = await PGlite.create();

export const options: BallastModuleOptions[] = [
  { postgres: { pool } },
  { postgres: { pool, preparedStatements: false } },
  { postgres: { pglite } },
  { postgres: { pglite: new PGlite('./.pglite') } },
];

export const modules = options.map((each) => BallastModule.forRoot(each));

// A checked-out pg client and a PGlite transaction are valid transactional `client`s.
export async function enqueueWithOrder(queue: QueueService, total: number): Promise<string> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ id: string }>('INSERT INTO orders (total) VALUES ($1) RETURNING id', [total]);
    const { id } = await queue.add('orders', 'send-receipt', { orderId: rows[0]?.id }, { client });
    await client.query('COMMIT');
    return id;
  } finally {
    client.release();
  }
}

export function enqueueInPglite(queue: QueueService): Promise<string> {
  return pglite.transaction(async (tx) => (await queue.add('orders', 'send-receipt', {}, { client: tx })).id);
}

// @ts-expect-error a pool is a pg.Pool, not a string
BallastModule.forRoot({ postgres: { pool: 'not a pool' } });
// @ts-expect-error pool options are not a pool
BallastModule.forRoot({ postgres: { pool: { connectionString: 'postgres://app@127.0.0.1/app' } } });
