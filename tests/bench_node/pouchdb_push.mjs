// The baseline of tests/bench_sync.py: PouchDB pushing N documents to express-pouchdb.
//
//   node pouchdb_push.mjs --docs 50000 [--batch-size 100]
//
// The server (express-pouchdb over the memory adapter) runs in a child process of
// its own on a free loopback port, as the cloud does in our run, so client and
// server each have a core. The client fills a local in-memory PouchDB with N
// documents shaped like one change of ours (a table row of a few hundred bytes),
// then times db.replicate.to(remote) until it completes. Prints one JSON line.

import { fork } from "node:child_process";
import { once } from "node:events";
import express from "express";
import expressPouchDB from "express-pouchdb";
import PouchDB from "pouchdb";
import memoryAdapter from "pouchdb-adapter-memory";

const MemoryPouch = PouchDB.plugin(memoryAdapter).defaults({ adapter: "memory" });

function option(name, fallback) {
  const at = process.argv.indexOf("--" + name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

function serve() {
  const app = express();
  app.use("/", expressPouchDB(MemoryPouch, { mode: "minimumForPouchDB", inMemoryConfig: true }));
  const server = app.listen(0, "127.0.0.1", () => process.send({ port: server.address().port }));
}

// One of our changes: an order line as the edge pushes it.
function changeDoc(n) {
  const id = 2 * 2 ** 40 + n;
  return {
    _id: "order_items:" + id, seq: n, table: "order_items", id, op: "upsert",
    row: {
      id, created_at: "2025-01-06T12:30:15.123456", updated_at: "2025-01-06T12:30:15.123456",
      order_id: id - 1, menu_item_id: 1099511627801, variation_id: null,
      name: "Grilled Salmon", quantity: 2, price: "18.50", modifiers_total: "0.00",
      amount: "37.00", tax_amount: "3.33", tax_percentage: "9.0000",
      tax_breakup: '{"GST": {"percent": "5", "amount": "1.85"}, "Service": {"percent": "4", "amount": "1.48"}}',
      note: "no lemon", kot_quantity: 2,
    },
  };
}

async function push() {
  const docs = option("docs", 50000);
  const batchSize = option("batch-size", 100);
  const server = fork(new URL(import.meta.url).pathname, ["--serve"], { stdio: "inherit" });
  const [{ port }] = await once(server, "message");
  try {
    const local = new MemoryPouch("edge");
    for (let start = 0; start < docs; start += 1000) {
      const chunk = [];
      for (let n = start; n < Math.min(docs, start + 1000); n++) chunk.push(changeDoc(n + 1));
      await local.bulkDocs(chunk);
    }
    const remote = new PouchDB(`http://127.0.0.1:${port}/cloud`);
    await remote.info();                     // created before the clock starts
    const started = process.hrtime.bigint();
    const result = await local.replicate.to(remote, { batch_size: batchSize });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const info = await remote.info();
    console.log(JSON.stringify({
      docs, written: result.docs_written, at_remote: info.doc_count, seconds,
      docs_per_second: docs / seconds, batch_size: batchSize,
      doc_bytes: JSON.stringify(changeDoc(1)).length,
    }));
  } finally {
    server.kill();
  }
}

if (process.argv.includes("--serve")) serve();
else await push();
