// Print reclock's change notices.  LISTEN needs a connection of its own, made
// directly to PostgreSQL: notices do not pass through a transaction pooler.
'use strict';
const { Client } = require('pg');

async function listen(onEvent) {
  const c = new Client();   // PG* environment variables
  await c.connect();
  c.on('notification', (n) => onEvent(JSON.parse(n.payload)));
  await c.query('LISTEN reclock');
  return c;
}

if (require.main === module) {
  listen((e) => console.log(`${e.event} ${e.table} ${e.key} by ${e.holder} (fence ${e.fence}, until ${e.expires_at})`))
    .catch((e) => { console.error(e); process.exit(1); });
}
module.exports = { listen };
