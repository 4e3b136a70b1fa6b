// The JSON-lines shim (clientcert/jsonlines.py): one request per stdin line, one answer per
// stdout line, calling smm_client.js. This is all an SDK author writes for a Node library.
'use strict';
const readline = require('node:readline');
const { SmmClient } = require('./smm_client.js');

let client;
const ops = {
  init: (a) => { client = new SmmClient(a.url, a.key, a.timeout); return null; },
  balance: () => client.balance(),
  services: () => client.services(),
  add: (a) => client.add(a.service, a.link, a.quantity, a.extras),
  status: (a) => client.status(a.order),
  multi_status: (a) => client.multiStatus(a.orders),
  cancel: (a) => client.cancel(a.orders),
  refill: (a) => client.refill(a.order),
  refill_status: (a) => client.refillStatus(a.refill),
};
const reply = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const lines = readline.createInterface({ input: process.stdin });
let queue = Promise.resolve();  // one call at a time, answered in order
lines.on('line', (line) => {
  queue = queue.then(async () => {
    const request = JSON.parse(line);
    const op = ops[request.op];
    if (!op) return reply({ unsupported: true });
    try {
      reply({ ok: await op(request.op === 'init' ? request : request.args) });
    } catch (e) {
      reply({ error: { type: e.constructor.name, message: String(e.message) } });
    }
  });
});
