// A small reclock helper for node-postgres: copy it into your project.
// Every value travels as a bound parameter (extended protocol), and the token
// is presented per transaction, so it all works through transaction pooling.
'use strict';

async function acquire(db, table, key, holder, ttl = null) {
  const { rows } = await db.query(
    'SELECT acquired, token, holder, expires_at, fence FROM reclock_acquire($1, $2, $3, $4::interval)',
    [table, String(key), holder, ttl]);
  return rows[0];
}

async function refresh(db, token, ttl = null) {
  const { rows } = await db.query('SELECT reclock_refresh($1, $2::interval) AS expires_at', [token, ttl]);
  return rows[0].expires_at;
}

async function release(db, token) {
  const { rows } = await db.query('SELECT reclock_release($1) AS released', [token]);
  return rows[0].released;
}

// Run fn(client) in one transaction that presents the token to the guard.
async function withToken(pool, token, fn) {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query("SELECT set_config('reclock.token', $1, true)", [token || '']);
    const r = await fn(c);
    await c.query('COMMIT');
    return r;
  } catch (e) {
    await c.query('ROLLBACK');
    throw e;
  } finally {
    c.release();
  }
}

async function cas(db, table, key, expected, changed) {
  const { rows } = await db.query('SELECT reclock_cas($1, $2, $3::jsonb, $4::jsonb) AS ok',
    [table, String(key), JSON.stringify(expected), JSON.stringify(changed)]);
  return rows[0].ok;
}

async function diff(db, table, key, expected) {
  const { rows } = await db.query('SELECT reclock_diff($1, $2, $3::jsonb) AS d',
    [table, String(key), JSON.stringify(expected)]);
  return rows[0].d;
}

// A form's expiry, timed from the server's expires_at (not the client clock's idea of "5 min").
function msUntil(expiresAt, serverNow) {
  return new Date(expiresAt).getTime() - new Date(serverNow).getTime();
}

module.exports = { acquire, refresh, release, withToken, cas, diff, msUntil };
