/* The offline outbox: actions made without a network, kept in IndexedDB until the REST API
   has taken them. Loaded by pages (outbox.js) and by the service worker (outbox-sw.js), so
   both send the same way: in order, one at a time, each with its Idempotency-Key (the
   item's id), so that a retry after a lost answer never does anything twice.

   An item: {id, userId, createdAt, kind, label, method, url, body (JSON) or parts
   ([{name, value}] or [{name, blob, filename}]), state, problem, attempts, current,
   nextAt}. States: waiting, sending, conflict, refused, sign-in. */
(function (scope) {
  "use strict";

  const DB_NAME = "ksbb-outbox";
  const ITEMS = "items";
  const META = "meta";
  const LOCK = "ksbb-outbox-send";
  const MAX_BACKOFF_MS = 5 * 60 * 1000;
  let dbPromise = null;
  // Tells the other pages and the service worker that the outbox changed.
  const channel = scope.BroadcastChannel ? new BroadcastChannel("ksbb-outbox") : null;
  const changed = (result) => {
    if (channel) channel.postMessage("changed");
    return result;
  };

  function request(req) {
    return new Promise((resolve, reject) => {
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  function open() {
    if (!dbPromise) {
      dbPromise = new Promise((resolve, reject) => {
        const req = indexedDB.open(DB_NAME, 1);
        req.onupgradeneeded = () => {
          const db = req.result;
          db.createObjectStore(ITEMS, { keyPath: "id" }).createIndex("createdAt", "createdAt");
          db.createObjectStore(META, { keyPath: "key" });
        };
        req.onsuccess = () => {
          req.result.onversionchange = () => { req.result.close(); dbPromise = null; };
          resolve(req.result);
        };
        req.onerror = () => { dbPromise = null; reject(req.error); };
      });
    }
    return dbPromise;
  }

  async function run(storeName, mode, action) {
    const db = await open();
    const tx = db.transaction(storeName, mode);
    const result = await request(action(tx.objectStore(storeName)));
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
    return result;
  }

  const all = () => run(ITEMS, "readonly", (s) => s.index("createdAt").getAll());
  const get = (id) => run(ITEMS, "readonly", (s) => s.get(id));
  const put = (item) => run(ITEMS, "readwrite", (s) => s.put(item)).then(changed);
  const remove = (id) => run(ITEMS, "readwrite", (s) => s.delete(id)).then(changed);
  const getMeta = (key) =>
    run(META, "readonly", (s) => s.get(key)).then((row) => (row ? row.value : null));
  const setMeta = (key, value) => run(META, "readwrite", (s) => s.put({ key: key, value: value }));

  function uuid() {
    if (scope.crypto && scope.crypto.randomUUID) return scope.crypto.randomUUID();
    const b = scope.crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  async function add(fields) {
    const item = Object.assign(
      { id: uuid(), createdAt: Date.now(), state: "waiting", attempts: 0, problem: null,
        current: null, nextAt: 0 },
      fields
    );
    await put(item);
    return item;
  }

  /* Keep my version after a conflict: the same action based on the version now current,
     under a new key (the old key's answer was the conflict), in the same place in line. */
  async function keepMine(id) {
    const item = await get(id);
    if (!item || item.state !== "conflict") return null;
    const body = Object.assign({}, item.body);
    if (item.current && item.current.version !== undefined) body.version = item.current.version;
    const again = Object.assign({}, item, {
      id: uuid(), body: body, state: "waiting", problem: null, current: null, attempts: 0,
      nextAt: 0,
    });
    await put(again);
    await remove(id);
    return again;
  }

  function problemText(problem) {
    if (!problem) return "";
    const parts = [problem.detail || problem.title || ""];
    const errors = problem.errors || {};
    for (const name of Object.keys(errors)) {
      const messages = Array.isArray(errors[name]) ? errors[name] : [errors[name]];
      parts.push(`${name}: ${messages.map((m) => (typeof m === "string" ? m : JSON.stringify(m))).join(" ")}`);
    }
    return parts.filter(Boolean).join(" · ");
  }

  function buildRequest(item, csrfToken) {
    const headers = {
      "Idempotency-Key": item.id,
      "X-CSRFToken": csrfToken || "",
      Accept: "application/json",
    };
    let body;
    if (item.parts) {
      body = new FormData();
      for (const part of item.parts) {
        if (part.blob) body.append(part.name, part.blob, part.filename || "photo.jpg");
        else body.append(part.name, part.value);
      }
    } else {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(item.body || {});
    }
    return { method: item.method, headers: headers, body: body, credentials: "same-origin",
      cache: "no-store", redirect: "error" };
  }

  /* What an answer means for the item: "done", "retry" (network, 5xx), "conflict",
     "sign-in" (stop everything), "refused". */
  function outcome(status, problem) {
    if (status >= 200 && status < 300) return "done";
    if (status === 0 || status >= 500 || status === 429 || status === 408) return "retry";
    const type = (problem && problem.type) || "";
    const detail = (problem && problem.detail) || "";
    if (status === 401 || type.endsWith("not-authenticated")) return "sign-in";
    // A token from before signing in again: the next page brings a fresh one.
    if (status === 403 && /CSRF/i.test(detail)) return "sign-in";
    if ((status === 409 || status === 422) && problem && problem.current) return "conflict";
    return "refused";
  }

  async function readProblem(response) {
    try {
      return await response.json();
    } catch (error) {
      return { status: response.status, title: response.statusText };
    }
  }

  async function sendOne(item, context) {
    item.state = "sending";
    item.attempts = (item.attempts || 0) + 1;
    await put(item);
    let status = 0;
    let problem = null;
    try {
      const response = await context.fetch(item.url, buildRequest(item, context.csrfToken));
      status = response.status;
      if (status >= 400) problem = await readProblem(response);
    } catch (error) {
      problem = { detail: String(error && error.message ? error.message : error) };
    }
    const result = outcome(status, problem);
    if (result === "done") {
      await remove(item.id);
      return result;
    }
    item.problem = problem;
    if (result === "retry") {
      item.state = "waiting";
      item.nextAt = Date.now() + Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(item.attempts, 9));
    } else {
      item.state = result;
      if (result === "conflict") item.current = problem.current;
    }
    await put(item);
    return result;
  }

  /* Send what is waiting for `userId`, oldest first, one at a time. Stops at the first
     network failure (order matters: an edit after an add) or when signing in is needed.
     Returns {sent, stopped}. Several tabs and the service worker share one lock. */
  async function flush(context) {
    const go = () => flushLocked(context);
    const locks = scope.navigator && scope.navigator.locks;
    if (locks && locks.request) {
      return locks.request(LOCK, { ifAvailable: true }, (lock) =>
        lock ? go() : { sent: 0, stopped: "busy" }
      );
    }
    return go();
  }

  async function flushLocked(context) {
    const userId = String(context.userId || "");
    const fetcher = context.fetch || scope.fetch.bind(scope);
    const ctx = { fetch: fetcher, csrfToken: context.csrfToken };
    let sent = 0;
    if (!userId) return { sent: 0, stopped: "no-user" };
    for (const item of await all()) {
      if (String(item.userId) !== userId) continue; // never sent under another person
      if (item.state === "sign-in" || item.state === "sending") item.state = "waiting";
      if (item.state !== "waiting") continue;
      if (!context.force && item.nextAt && item.nextAt > Date.now()) return { sent, stopped: "later" };
      const result = await sendOne(item, ctx);
      if (result === "done") sent += 1;
      if (result === "retry" || result === "sign-in") return { sent, stopped: result };
    }
    return { sent, stopped: null };
  }

  async function counts(userId) {
    const items = await all();
    const mine = items.filter((i) => !userId || String(i.userId) === String(userId));
    return {
      total: items.length,
      waiting: mine.filter((i) => i.state === "waiting" || i.state === "sending").length,
      attention: mine.filter((i) => ["conflict", "refused", "sign-in"].includes(i.state)).length,
      signIn: mine.some((i) => i.state === "sign-in"),
      others: items.length - mine.length,
    };
  }

  scope.KsbbOutbox = {
    open, all, get, put, remove, add, keepMine, getMeta, setMeta, flush, counts, outcome,
    problemText, uuid,
  };
})(self);
