// reclock through PgBouncer in transaction mode, with node-postgres: every
// query sends its values as bound parameters (extended protocol), and each
// transaction may land on another server connection.
'use strict';
const assert = require('assert/strict');
const { Client, Pool } = require('pg');

const POOL_PORT = Number(process.env.POOL_PORT);
const direct = () => new Client({
  host: process.env.PGHOST, port: Number(process.env.PGPORT), database: 'reclock_pool',
  user: process.env.PGUSER, password: process.env.PGPASSWORD,
});
const pooled = (database) => ({ host: '127.0.0.1', port: POOL_PORT, database, user: 'app' });

let failures = 0;
async function check(name, fn) {
  try {
    await fn();
    console.log(`ok - ${name}`);
  } catch (e) {
    failures++;
    console.log(`not ok - ${name}\n  ${e.stack.split('\n').join('\n  ')}`);
  }
}

async function editFlow(pool, id, pids) {
  const holder = `user${id}`;
  // open the form: acquire (autocommit)
  let r = await pool.query(
    'SELECT acquired, token, fence, pg_backend_pid() AS pid FROM reclock_acquire($1, $2, $3)',
    ['orders', String(id), holder]);
  assert.equal(r.rows[0].acquired, true, `${holder} acquires`);
  const token = r.rows[0].token;
  pids.add(r.rows[0].pid);
  // heartbeat
  r = await pool.query('SELECT reclock_refresh($1, $2) AS exp, pg_backend_pid() AS pid', [token, '10 minutes']);
  assert.ok(r.rows[0].exp instanceof Date, 'refresh returns the new expiry');
  pids.add(r.rows[0].pid);
  // save: one transaction that presents the token as a bound parameter
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query("SELECT set_config('reclock.token', $1, true)", [token]);
    r = await c.query('SELECT reclock_cas($1, $2, $3::jsonb, $4::jsonb) AS saved, pg_backend_pid() AS pid',
      ['orders', String(id), JSON.stringify({ qty: 0 }), JSON.stringify({ qty: id, note: `saved by ${holder}` })]);
    assert.equal(r.rows[0].saved, true, 'cas swaps the row through the guard');
    pids.add(r.rows[0].pid);
    await c.query('COMMIT');
  } finally {
    c.release();
  }
  // close the form
  r = await pool.query('SELECT reclock_release($1) AS released', [token]);
  assert.equal(r.rows[0].released, true, 'release');
  return token;
}

async function main() {
  const admin = direct();
  await admin.connect();

  await check('8 clients edit through 2 server connections: acquire, write with the token, refresh, cas, release', async () => {
    const pool = new Pool({ ...pooled('reclock_pool'), max: 8 });
    const pids = new Set();
    await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((id) => editFlow(pool, id, pids)));
    const r = await admin.query('SELECT id, qty, note FROM orders WHERE id <= 8 ORDER BY id');
    r.rows.forEach((row) => {
      assert.equal(row.qty, row.id);
      assert.equal(row.note, `saved by user${row.id}`);
    });
    assert.ok(pids.size >= 2 && pids.size <= 2, `transactions ran on ${pids.size} server connections (pool of 2)`);
    await pool.end();
  });

  await check('a write without the token through the pooler is refused (55P03)', async () => {
    const pool = new Pool({ ...pooled('reclock_pool'), max: 2 });
    const { rows } = await pool.query('SELECT token FROM reclock_acquire($1, $2, $3)', ['orders', '9', 'alice']);
    await assert.rejects(pool.query('UPDATE orders SET qty = $1 WHERE id = $2', [99, 9]),
      (e) => e.code === '55P03' && /locked by "alice"/.test(e.message));
    await pool.query('SELECT reclock_release($1)', [rows[0].token]);
    await pool.end();
  });

  await check('a fresh server connection: a session-level set_config() as its first statement never lets the next client write, nor read the token', async () => {
    // reclock_pool_fresh has one server connection, opened by client A's first
    // statement: reclock's library is not loaded there until B's write fires the guard
    const adm = direct();
    await adm.connect();
    const { rows } = await adm.query('SELECT token FROM reclock_acquire($1, $2, $3)', ['orders', '10', 'alice']);
    const token = rows[0].token;
    const a = new Client(pooled('reclock_pool_fresh'));
    const b = new Client(pooled('reclock_pool_fresh'));
    await a.connect();
    await b.connect();
    const r = await a.query("SELECT set_config('reclock.token', $1, false) AS v, pg_backend_pid() AS pid", [token]);
    await assert.rejects(b.query('UPDATE orders SET qty = 0 WHERE id = 10'),
      (e) => e.code === '55P03' && e.constraint === 'reclock_guard', 'the next client may not write with it');
    const shown = await b.query('SELECT current_setting($1) AS v, pg_backend_pid() AS pid', ['reclock.token']);
    assert.equal(shown.rows[0].pid, r.rows[0].pid, 'client B ran on the server connection client A left');
    assert.equal(shown.rows[0].v, '', 'nor read it back');
    await assert.rejects(a.query('UPDATE orders SET qty = 0 WHERE id = 10'), (e) => e.code === '55P03',
      'not even client A, in a later transaction');
    await adm.query('SELECT reclock_release($1)', [token]);
    await a.end();
    await b.end();
    await adm.end();
  });

  await check('a warm server connection: a leftover token restored by a rolled-back savepoint is not honoured', async () => {
    const a = new Client(pooled('reclock_pool1'));
    const b = new Client(pooled('reclock_pool1'));
    await a.connect();
    await b.connect();
    const { rows } = await a.query('SELECT token FROM reclock_acquire($1, $2, $3)', ['orders', '10', 'alice']);
    await a.query("SELECT set_config('reclock.token', $1, false)", [rows[0].token]);   // session-level: wrong on purpose
    await b.query('BEGIN');
    await b.query('SAVEPOINT s');
    await b.query("SET LOCAL reclock.token = ''");
    await b.query('ROLLBACK TO s');
    await assert.rejects(b.query('UPDATE orders SET qty = 0 WHERE id = 10'), (e) => e.code === '55P03');
    await b.query('ROLLBACK');
    const shown = await b.query('SHOW reclock.token');
    assert.equal(shown.rows[0]['reclock.token'], '', 'SHOW does not hand the token to client B');
    await a.query('RESET reclock.token');
    await a.query('SELECT reclock_release($1)', [rows[0].token]);
    await a.end();
    await b.end();
  });

  await check('with session_preload_libraries, a fresh connection hides a leftover token before any reclock call', async () => {
    const a = new Client({ ...pooled('reclock_pool_pre'), user: 'app_pre' });
    const b = new Client({ ...pooled('reclock_pool_pre'), user: 'app_pre' });
    await a.connect();
    await b.connect();
    await a.query("SELECT set_config('reclock.token', $1, false)", ['6f1c2d0e-5b1a-4c39-9d2e-3f1a0b7c8d9e']);
    const shown = await b.query('SHOW reclock.token');
    assert.equal(shown.rows[0]['reclock.token'], '');
    await a.end();
    await b.end();
  });

  await check('no advisory lock stays held on any server connection', async () => {
    const pool = new Pool({ ...pooled('reclock_pool'), max: 4 });
    await Promise.all([11, 12, 13, 14].map((id) =>
      pool.query('SELECT reclock_acquire($1, $2, $3)', ['orders', String(id), `u${id}`])));
    const r = await admin.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'");
    assert.equal(r.rows[0].n, 0);
    const s = await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = 'reclock_pool' AND state = 'idle in transaction'");
    assert.equal(s.rows[0].n, 0, 'no server connection is left inside a transaction');
    await pool.end();
  });

  await check('LISTEN on a direct connection hears a lock taken through the pooler, after its commit', async () => {
    const listener = direct();
    await listener.connect();
    await listener.query('LISTEN reclock');
    const heard = new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no notice within 60 s')), 60000);
      listener.on('notification', (n) => { clearTimeout(t); resolve(JSON.parse(n.payload)); });
    });
    const pool = new Pool({ ...pooled('reclock_pool'), max: 1 });
    await pool.query('SELECT reclock_acquire($1, $2, $3)', ['orders', '15', 'carol']);
    const p = await heard;
    assert.deepEqual([p.event, p.table, p.key, p.holder], ['acquired', 'public.orders', '15', 'carol']);
    assert.ok(!('token' in p), 'no token in the payload');
    await pool.end();
    await listener.end();
  });

  await admin.end();
  if (failures) {
    console.log(`${failures} check(s) failed`);
    process.exit(1);
  }
  console.log('node-postgres through PgBouncer: all checks passed');
}

main().catch((e) => { console.error(e); process.exit(1); });
