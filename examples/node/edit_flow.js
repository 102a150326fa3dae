// The edit flow with node-postgres, as a web application runs it; run by
// `make test` against a scratch database (PG* environment, table orders).
'use strict';
const assert = require('assert/strict');
const { Pool } = require('pg');
const { acquire, refresh, release, withToken, cas, diff, msUntil } = require('./reclock');
const { listen } = require('./listen');

async function main() {
  const pool = new Pool({ max: 4 });
  const heard = [];
  const listener = await listen((e) => heard.push(e));

  // alice opens order 42: she gets it; the form shows what it read
  const shown = (await pool.query('SELECT qty, note FROM orders WHERE id = $1', [42])).rows[0];
  const a = await acquire(pool, 'orders', 42, 'alice', '2 minutes');
  assert.equal(a.acquired, true);
  const now = (await pool.query('SELECT clock_timestamp() AS t')).rows[0].t;
  assert.ok(msUntil(a.expires_at, now) > 110000, 'the form times its expiry from expires_at');

  // bob opens it: told who holds it and until when
  const b = await acquire(pool, 'orders', 42, 'bob');
  assert.equal(b.acquired, false);
  assert.equal(b.holder, 'alice');
  console.log(`bob sees: locked by ${b.holder} until ${b.expires_at.toISOString()}`);

  // bob's write without the token is refused
  await assert.rejects(pool.query('UPDATE orders SET qty = 0 WHERE id = $1', [42]), (e) => e.code === '55P03');

  // heartbeat, then alice saves with compare-and-swap in a transaction that presents her token
  assert.ok(await refresh(pool, a.token, '2 minutes'));
  const saved = await withToken(pool, a.token,
    (c) => cas(c, 'orders', 42, shown, { qty: shown.qty + 1 }));
  assert.equal(saved, true);
  // payloads any role can send on the channel: the listener ignores what is
  // not shaped like reclock's notices, and does not crash on it
  await pool.query(`NOTIFY reclock, 'not json'`);
  await pool.query(`NOTIFY reclock, '[1, 2]'`);
  await pool.query(`NOTIFY reclock, '{"event": 1}'`);
  assert.equal(await release(pool, a.token), true);

  // a stale form (bob read before alice's save) is caught and explained, not written
  const stale = await withToken(pool, null, (c) => cas(c, 'orders', 42, shown, { qty: 99 }));
  assert.equal(stale, false);
  const changed = await diff(pool, 'orders', 42, shown);
  assert.deepEqual(changed, { qty: { expected: shown.qty, current: shown.qty + 1 } });
  console.log('bob\'s stale form: changed since shown:', JSON.stringify(changed));

  // the listener heard the lock, the save and the release, in order, after
  // each commit (a wait for the third notice, bounded, not a sleep)
  for (let i = 0; heard.length < 3 && i < 3000; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(heard.map((e) => `${e.event}:${e.holder}`), ['acquired:alice', 'updated:alice', 'released:alice']);
  assert.ok(heard.every((e) => !('token' in e)));

  await listener.end();
  await pool.end();
  console.log('node example: ok');
}

main().catch((e) => { console.error(e); process.exit(1); });
