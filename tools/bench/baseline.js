// The plain-JavaScript baselines and floors, plus IndexedDB helpers for the pick-cost
// figure. Every function is registered in window.benchFns (see common.js) and returns a
// promise of plain JSON data. Times are milliseconds.
(function () {
  "use strict";
  var fns = window.benchFns = window.benchFns || {};

  function req(r) {
    return new Promise(function (resolve, reject) {
      r.onsuccess = function () { resolve(r.result); };
      r.onerror = function () { reject(r.error); };
    });
  }
  function done(tx) {
    return new Promise(function (resolve, reject) {
      tx.oncomplete = function () { resolve(); };
      tx.onerror = function () { reject(tx.error); };
      tx.onabort = function () { reject(tx.error || new Error("aborted")); };
    });
  }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
  function openDb(name, upgrade) {
    var r = indexedDB.open(name, 1);
    r.onupgradeneeded = function () { upgrade(r.result); };
    return req(r);
  }
  function deleteDb(name) { return req(indexedDB.deleteDatabase(name)); }
  fns.js_delete_db = deleteDb;

  // A record of the same shape as a brython_jobs job record, so structured cloning costs
  // the same.
  var seq = 0;
  function newRecord(now) {
    seq += 1;
    return {
      id: now.toString(16).padStart(12, "0") + "-" + crypto.randomUUID().slice(13),
      name: "noop", queue: "default", payload: null, status: "pending", priority: 0,
      attempts: 0, max_attempts: 4, created_at: now / 1000, run_at: now / 1000,
      started_at: null, finished_at: null, expires_at: null, progress: null, result: null,
      error: null, key: null, seq: seq, owner: null, ttl: null, on_expire: "fail",
      schedule: null, trigger: null, npri: 0, t: now / 1000
    };
  }

  // 1. Throughput: per job three readwrite transactions, each awaited to commit:
  //    enqueue (put), claim (first pending by the status index + put), complete (get + put).
  fns.js_throughput = async function (n, dbName) {
    await deleteDb(dbName);
    var db = await openDb(dbName, function (db) {
      db.createObjectStore("jobs", {keyPath: "id"}).createIndex("status", "status");
    });
    var t0 = stamp();
    for (var i = 0; i < n; i++) {
      var tx = db.transaction("jobs", "readwrite");
      tx.objectStore("jobs").put(newRecord(Date.now()));
      await done(tx);
    }
    var tEnq = stamp();
    for (var j = 0; j < n; j++) {
      var now = Date.now() / 1000;
      var tx1 = db.transaction("jobs", "readwrite");
      var s1 = tx1.objectStore("jobs");
      var rec = await req(s1.index("status").get("pending"));
      rec.status = "processing"; rec.attempts += 1; rec.started_at = now; rec.owner = 1; rec.t = now;
      s1.put(rec);
      await done(tx1);
      var tx2 = db.transaction("jobs", "readwrite");
      var s2 = tx2.objectStore("jobs");
      var cur = await req(s2.get(rec.id));
      cur.status = "completed"; cur.finished_at = Date.now() / 1000; cur.owner = null; cur.t = cur.finished_at;
      s2.put(cur);
      await done(tx2);
    }
    var t1 = stamp();
    var count = await req(db.transaction("jobs").objectStore("jobs").index("status").count("completed"));
    db.close();
    await deleteDb(dbName);
    return {ms: t1 - t0, enqueue_ms: tEnq - t0, completed: count, transactions: 3 * n};
  };

  // 2. Latency floors: one readwrite transaction (same tab), and one readwrite transaction
  //    plus one BroadcastChannel message to another tab (follower to leader).
  var floorDb = null;
  async function floorOpen(dbName) {
    if (!floorDb) {
      floorDb = await openDb(dbName, function (db) { db.createObjectStore("jobs", {keyPath: "id"}); });
    }
    return floorDb;
  }
  async function putOne(db) {
    var tx = db.transaction("jobs", "readwrite");
    tx.objectStore("jobs").put(newRecord(Date.now()));
    await done(tx);
  }
  fns.js_latency_same = async function (n, gapMs, dbName) {
    var db = await floorOpen(dbName);
    var out = [];
    for (var i = 0; i < n; i++) {
      var t0 = stamp();
      await putOne(db);
      // The handler would start on the next task.
      await new Promise(function (r) { setTimeout(r, 0); });
      out.push(stamp() - t0);
      await sleep(gapMs);
    }
    return out;
  };
  var listener = null;
  fns.js_bc_listen = function (channel) {
    if (!listener) {
      listener = new BroadcastChannel(channel);
      listener.onmessage = function (ev) {
        if (ev.data && ev.data.kind === "ping") {
          listener.postMessage({kind: "pong", i: ev.data.i, at: stamp()});
        }
      };
    }
    return true;
  };
  fns.js_latency_bc = async function (n, gapMs, dbName, channel) {
    var db = await floorOpen(dbName);
    var bc = new BroadcastChannel(channel);
    var waiting = null;
    bc.onmessage = function (ev) {
      if (ev.data && ev.data.kind === "pong" && waiting) { var w = waiting; waiting = null; w(ev.data.at); }
    };
    var out = [];
    for (var i = 0; i < n; i++) {
      var t0 = stamp();
      var got = new Promise(function (r) { waiting = r; });
      await putOne(db);
      bc.postMessage({kind: "ping", i: i});
      var at = await got;
      out.push(at - t0);
      await sleep(gapMs);
    }
    bc.close();
    return out;
  };

  // 3. Failover floor: hold (or queue for) an exclusive Web Lock; when granted, note the
  //    time in localStorage "bench:lockgot" (the driver closes the holder's tab).
  fns.js_lock_hold = function (name, tag) {
    navigator.locks.request(name, function () {
      localStorage.setItem("bench:lockgot", JSON.stringify({at: stamp(), tag: tag}));
      return new Promise(function () {});
    });
    return true;
  };

  // 4. Pick cost: bulk-fill a brython_jobs database with copies of two template records
  //    (made by the Python page from the package's own record functions), then a plain-JS
  //    pick on it: the first pending head by the "pick" index (readonly), then claim the
  //    first pending job of that queue (readwrite, awaited), then put it back (untimed).
  fns.js_fill = async function (dbName, completedTpl, pendingTpl, nCompleted, nPending) {
    var db = await req(indexedDB.open(dbName));
    var base = Date.now() - 86400000;
    var total = nCompleted + nPending;
    var batch = 1000;
    for (var start = 0; start < total; start += batch) {
      var tx = db.transaction(["jobs", "meta"], "readwrite");
      var s = tx.objectStore("jobs");
      for (var i = start; i < Math.min(total, start + batch); i++) {
        var rec = structuredClone(i < nCompleted ? completedTpl : pendingTpl);
        var ms = base + i;
        rec.id = ms.toString(16).padStart(12, "0").replace(/^(.{8})/, "$1-") + crypto.randomUUID().slice(13);
        rec.seq = i + 1;
        rec.created_at = ms / 1000;
        s.put(rec);
      }
      if (start + batch >= total) tx.objectStore("meta").put(total, "seq");
      await done(tx);
    }
    var count = await req(db.transaction("jobs").objectStore("jobs").count());
    db.close();
    return count;
  };
  var PENDING_LOW = ["pending"], PENDING_HIGH = ["pending", []];
  fns.js_pick = async function (dbName, reps) {
    var db = await req(indexedDB.open(dbName));
    var out = [];
    for (var r = 0; r < reps; r++) {
      var t0 = stamp();
      var tx1 = db.transaction("jobs", "readonly");
      var pick1 = tx1.objectStore("jobs").index("pick");
      var c1 = await req(pick1.openKeyCursor(IDBKeyRange.bound(PENDING_LOW, PENDING_HIGH)));
      var queue = c1.key[1];
      var tx2 = db.transaction(["jobs", "meta"], "readwrite");
      var s2 = tx2.objectStore("jobs");
      var range = IDBKeyRange.bound(["pending", queue], ["pending", queue, []]);
      var c2 = await req(s2.index("pick").openCursor(range));
      var rec = c2.value, orig = structuredClone(rec);
      rec.status = "processing"; rec.attempts += 1; rec.owner = 1;
      rec.started_at = Date.now() / 1000; rec.t = rec.started_at;
      s2.put(rec);
      await done(tx2);
      out.push(stamp() - t0);
      var tx3 = db.transaction("jobs", "readwrite");
      tx3.objectStore("jobs").put(orig);
      await done(tx3);
    }
    db.close();
    return out;
  };

  // Evidence: the cost of one put in its own readwrite transaction, into a brython_jobs
  // database (its real indexes) and into a store with only a status index. Returns ms:
  // the synchronous put() call and the whole transaction until committed (medians).
  fns.js_put_cost = async function (dbName, tpl, n) {
    function med(a) { a = a.slice().sort(function (x, y) { return x - y; }); return a[Math.floor(a.length / 2)]; }
    async function run(db, storeName) {
      var calls = [], txs = [], gets = [];
      for (var i = 0; i < n; i++) {
        var rec = structuredClone(tpl);
        rec.id = "put-cost-" + i + "-" + crypto.randomUUID();
        var t0 = performance.now();
        var tx = db.transaction(storeName, "readwrite");
        var s = tx.objectStore(storeName);
        var t1 = performance.now();
        s.put(rec);
        calls.push(performance.now() - t1);
        await done(tx);
        txs.push(performance.now() - t0);
        var t2 = performance.now();
        var tx3 = db.transaction(storeName, "readonly");
        await req(tx3.objectStore(storeName).get(rec.id));
        gets.push(performance.now() - t2);
        var tx2 = db.transaction(storeName, "readwrite");
        tx2.objectStore(storeName).delete(rec.id);
        await done(tx2);
      }
      return {put_call_ms: med(calls), tx_ms: med(txs), get_tx_ms: med(gets)};
    }
    var real = await req(indexedDB.open(dbName));
    var a = await run(real, "jobs");
    real.close();
    var plainName = dbName + "-one-index";
    await deleteDb(plainName);
    var plain = await openDb(plainName, function (db) {
      db.createObjectStore("jobs", {keyPath: "id"}).createIndex("status", "status");
    });
    var b = await run(plain, "jobs");
    plain.close();
    await deleteDb(plainName);
    return {schema: a, one_index: b};
  };

  // 5. Trigger floor: a plain-JS in-memory debounce call (clearTimeout + setTimeout and
  //    keep the latest payload). Returns per-call cost of each round.
  fns.js_debounce_cost = function (rounds, perRound) {
    var timer = null, latest = null;
    function debounced(payload) {
      latest = payload;
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(function () { timer = null; }, 2000);
    }
    var out = [];
    for (var r = 0; r < rounds; r++) {
      var t0 = performance.now();
      for (var i = 0; i < perRound; i++) debounced({lesson: i});
      out.push((performance.now() - t0) / perRound);
    }
    clearTimeout(timer);
    return out;
  };
})();

// 6. Worker floor: start a plain-JS web worker (until its first message) and time
//    postMessage round trips to it.
(function () {
  "use strict";
  var fns = window.benchFns;
  fns.js_worker = async function (rounds) {
    var src = "self.onmessage = function (e) { self.postMessage(e.data); }; self.postMessage('ready');";
    var url = URL.createObjectURL(new Blob([src], {type: "text/javascript"}));
    // The heartbeat spans what the page's first worker job spans: the worker's start,
    // one message there and back, then the same 50 ms of quiet.
    window.benchHeartbeat.start();
    var t0 = stamp();
    var w = new Worker(url);
    var next = null;
    w.onmessage = function (e) { if (next) { var n = next; next = null; n(e.data); } };
    await new Promise(function (r) { next = r; });
    var start = stamp() - t0;
    var first = new Promise(function (r) { next = r; });
    w.postMessage({i: -1, payload: null});
    await first;
    await new Promise(function (r) { setTimeout(r, 50); });
    var firstGap = window.benchHeartbeat.stop().maxGap;
    var trips = [];
    for (var i = 0; i < rounds; i++) {
      var t1 = stamp();
      var got = new Promise(function (r) { next = r; });
      w.postMessage({i: i, payload: null});
      await got;
      trips.push(stamp() - t1);
    }
    w.terminate();
    URL.revokeObjectURL(url);
    return {start: start, trips: trips, first_gap: firstGap};
  };
})();
