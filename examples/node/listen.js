// Print reclock's change notices.  LISTEN needs a connection of its own, made
// directly to PostgreSQL: notices do not pass through a transaction pooler.
'use strict';
const { Client } = require('pg');

// Any role can NOTIFY reclock with a payload of its own: a notice is a hint
// to re-read the row, never the state itself.  Ignore what is not shaped
// like reclock's notices instead of crashing on it.
function parse(payload) {
  let e;
  try { e = JSON.parse(payload); } catch (_) { return null; }
  if (e === null || typeof e !== 'object' || Array.isArray(e) ||
      typeof e.event !== 'string' || typeof e.table !== 'string') return null;
  return e;
}

async function listen(onEvent) {
  const c = new Client();   // PG* environment variables
  await c.connect();
  c.on('notification', (n) => {
    const e = parse(n.payload);
    if (e) onEvent(e);
  });
  await c.query('LISTEN reclock');
  return c;
}

if (require.main === module) {
  listen((e) => console.log(`${e.event} ${e.table} ${e.key} by ${e.holder} (fence ${e.fence}, until ${e.expires_at})`))
    .catch((e) => { console.error(e); process.exit(1); });
}
module.exports = { listen, parse };
