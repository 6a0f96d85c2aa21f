/* Pages' side of the offline outbox (the store and the sender are outbox-store.js).

   Forms marked data-outbox="<kind>" with data-outbox-url (and -method, -label, -extra,
   -rename, -drop) are kept as API actions when the phone has no network: the form's fields
   become the API's body (JSON, or multipart with its photos resized to at most 1600 px
   JPEG), the person sees "saved, waiting to send", and a header badge counts what waits.
   What waits is sent on page open, when the network returns, after a back-off, and by the
   service worker's background sync where the browser has it. #outbox-page lists it all. */
(function () {
  "use strict";
  const store = window.KsbbOutbox;
  if (!store || !window.indexedDB) return;

  const MAX_SIDE = 1600;
  const TEXT_FIELDS = new Set(["description", "note", "reason"]);
  const PROBE_MS = 3500;
  const body = document.body;
  const userId = body.dataset.userId || "";
  const tokenMeta = document.querySelector('meta[name="csrf-token"]');
  const csrfToken = tokenMeta ? tokenMeta.content : "";
  const badge = document.getElementById("outbox-badge");
  const page = document.getElementById("outbox-page");
  let timer = null;
  let sending = null;

  function format(text, n) {
    return String(text || "").replace("%(n)s", n).replace("{n}", n);
  }

  // --- turning a form into an API action ---------------------------------------------

  async function resized(file) {
    if (!/^image\/(jpeg|png|webp|gif|bmp)$/i.test(file.type)) return file;
    let bitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch (error) {
      return file; // not decodable here: the server checks it
    }
    const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    let blob;
    if (window.OffscreenCanvas) {
      const canvas = new OffscreenCanvas(width, height);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, width, height);
      blob = await canvas.convertToBlob({ type: "image/jpeg", quality: 0.85 });
    } else {
      const canvas = document.createElement("canvas");
      canvas.width = width;
      canvas.height = height;
      canvas.getContext("2d").drawImage(bitmap, 0, 0, width, height);
      blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
    }
    bitmap.close();
    return blob || file;
  }

  function jsonAttribute(form, name) {
    try {
      return JSON.parse(form.dataset[name] || "{}");
    } catch (error) {
      return {};
    }
  }

  async function action(form, submitter) {
    const data = new FormData(form);
    if (submitter && submitter.name) data.append(submitter.name, submitter.value);
    const drop = new Set(["csrfmiddlewaretoken", ...(form.dataset.outboxDrop || "").split(",")]);
    const rename = {};
    (form.dataset.outboxRename || "").split(",").filter(Boolean).forEach((pair) => {
      const [from, to] = pair.split(":");
      rename[from] = to;
    });
    const fields = {};
    const parts = [];
    for (const [rawName, value] of data.entries()) {
      if (drop.has(rawName)) continue;
      const name = rename[rawName] || rawName;
      if (value instanceof File) {
        if (!value.size) continue;
        const blob = await resized(value);
        const jpeg = blob !== value;
        const filename = jpeg ? value.name.replace(/\.[^.]*$/, "") + ".jpg" : value.name;
        parts.push({ name: name, blob: blob, filename: filename });
      } else {
        fields[name] = value === "" && !TEXT_FIELDS.has(name) ? null : value;
      }
    }
    Object.assign(fields, jsonAttribute(form, "outboxExtra"));
    const item = {
      userId: userId,
      kind: form.dataset.outbox,
      label: form.dataset.outboxLabel || document.title,
      method: (form.dataset.outboxMethod || "POST").toUpperCase(),
      url: form.dataset.outboxUrl,
      page: location.pathname,
    };
    if (parts.length) {
      for (const [name, value] of Object.entries(fields)) {
        if (value !== null) parts.unshift({ name: name, value: String(value) });
      }
      item.parts = parts;
    } else {
      item.body = fields;
    }
    return item;
  }

  async function reachable() {
    if (!navigator.onLine) return false;
    const controller = new AbortController();
    const stop = setTimeout(() => controller.abort(), PROBE_MS);
    try {
      await fetch("/api/v1/", { method: "HEAD", cache: "no-store", signal: controller.signal });
      return true;
    } catch (error) {
      return false;
    } finally {
      clearTimeout(stop);
    }
  }

  function savedNotice(form) {
    let notice = form.querySelector(".outbox-saved");
    if (!notice) {
      notice = document.createElement("p");
      notice.className = "notice outbox-saved";
      notice.setAttribute("role", "status");
      form.prepend(notice);
    }
    const link = document.createElement("a");
    link.href = badge ? badge.getAttribute("href") : "#";
    link.textContent = badge ? badge.dataset.textList : "";
    notice.replaceChildren(document.createTextNode((badge ? badge.dataset.textSaved : "") + " "), link);
    form.querySelectorAll("button[type=submit]").forEach((button) => { button.disabled = true; });
  }

  async function keep(form, submitter) {
    const item = await store.add(await action(form, submitter));
    savedNotice(form);
    form.dataset.outboxQueued = item.id;
    if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
    askForSync();
    await refresh();
  }

  async function onSubmit(event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.outbox || !userId) return;
    if (form.dataset.outboxSubmitting === "1") return;
    event.preventDefault();
    const submitter = event.submitter;
    if (await reachable()) {
      form.dataset.outboxSubmitting = "1";
      if (submitter && submitter.name) {
        const hidden = document.createElement("input");
        hidden.type = "hidden";
        hidden.name = submitter.name;
        hidden.value = submitter.value;
        form.append(hidden);
      }
      HTMLFormElement.prototype.submit.call(form);
      return;
    }
    await keep(form, submitter);
  }

  // --- sending -----------------------------------------------------------------------

  function askForSync() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.ready
      .then((registration) => registration.sync && registration.sync.register("ksbb-outbox"))
      .catch(() => {});
  }

  async function sendNow(force) {
    clearTimeout(timer);
    if (!userId || !navigator.onLine) return refresh();
    if (sending) return sending;
    sending = store
      .flush({ userId: userId, csrfToken: csrfToken, force: force })
      .catch(() => null)
      .then(async (result) => {
        sending = null;
        await refresh();
        if (result && result.stopped === "busy") timer = setTimeout(() => sendNow(false), 2000);
        else schedule();
        return result;
      });
    return sending;
  }

  async function schedule() {
    const mine = (await store.all()).filter(
      (i) => String(i.userId) === userId && i.state === "waiting"
    );
    if (!mine.length) return;
    const next = Math.min(...mine.map((i) => i.nextAt || 0));
    timer = setTimeout(() => sendNow(false), Math.max(1000, next - Date.now()));
  }

  // --- showing it --------------------------------------------------------------------

  async function refresh() {
    const counts = await store.counts(userId);
    const items = await store.all();
    body.dataset.outboxCount = String(items.length);
    if (badge) showBadge(counts, items.length);
    if (page && window.KsbbOutboxPage) window.KsbbOutboxPage.render(items, userId);
  }

  function showBadge(counts, total) {
    const pending = userId ? counts.waiting + counts.attention : total;
    badge.hidden = pending === 0;
    const signIn = pending > 0 && (!userId || counts.signIn);
    badge.classList.toggle("outbox-sign-in", signIn);
    badge.classList.toggle("outbox-attention", counts.attention > 0);
    badge.dataset.count = String(pending);
    if (signIn) {
      badge.textContent = `${format(badge.dataset.textWaiting, pending)} · ${badge.dataset.textSignIn}`;
      const next = encodeURIComponent(userId ? location.pathname : badge.dataset.outboxUrl);
      badge.href = `${badge.dataset.loginUrl}?next=${next}`;
    } else {
      badge.textContent = format(badge.dataset.textWaiting, pending);
      badge.href = badge.dataset.outboxUrl;
    }
  }


  // --- the outbox page (#outbox-page) ----------------------------------------------------

  const NEED_FIELDS = [
    "quantity_needed", "unit_value_idr", "priority", "households", "persons", "valid_until",
    "description",
  ];

  function texts() {
    const node = document.getElementById("outbox-texts");
    return node ? JSON.parse(node.textContent) : {};
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function button(label, className, handler) {
    const node = element("button", className, label);
    node.type = "button";
    node.addEventListener("click", async () => {
      node.disabled = true;
      await handler();
      await refresh();
    });
    return node;
  }

  function shown(value) {
    if (value === null || value === undefined || value === "") return "–";
    return String(value);
  }

  function needComparison(item, t) {
    const table = element("table", "outbox-compare");
    const head = table.createTHead().insertRow();
    [t.field, t.mine, t.current].forEach((label) => head.append(element("th", "", label)));
    const rows = table.createTBody();
    const mine = item.body || {};
    for (const name of NEED_FIELDS) {
      if (!(name in mine)) continue;
      const row = rows.insertRow();
      const differs = shown(mine[name]) !== shown(item.current[name]);
      if (differs) row.className = "differs";
      const label = (value) => (name === "priority" ? (t.priorities || {})[value] || value : value);
      const own = label(mine[name]);
      const theirs = label(item.current[name]);
      row.append(element("th", "", (t.fields || {})[name] || name));
      row.append(element("td", "", shown(own)));
      row.append(element("td", "", shown(theirs)));
    }
    return table;
  }

  function commitmentComparison(item, t) {
    const box = element("dl", "facts outbox-compare");
    const statuses = t.statuses || {};
    const asked = item.body && item.body.to_status ? statuses[item.body.to_status] : item.label;
    const mine = element("div");
    mine.append(element("dt", "", t.mine), element("dd", "", asked || item.label));
    const now = element("div");
    const status = item.current.status;
    now.append(element("dt", "", t.current), element("dd", "", statuses[status] || status));
    box.append(mine, now);
    return box;
  }

  function itemView(item, t, userIdNow) {
    const li = element("li", `card outbox-item state-${item.state}`);
    li.dataset.id = item.id;
    li.dataset.state = item.state;
    li.dataset.kind = item.kind;
    const own = String(item.userId) === userIdNow;
    li.append(element("p", "outbox-label", item.label));
    const when = new Date(item.createdAt).toLocaleString(document.documentElement.lang || undefined, {
      dateStyle: "medium", timeStyle: "short",
    });
    const photos = (item.parts || []).filter((p) => p.blob).length;
    const meta = [when, (t.states || {})[item.state] || item.state];
    if (photos) meta.push(format(t.photos, photos));
    li.append(element("p", "muted small outbox-meta", meta.join(" · ")));
    if (!own) li.append(element("p", "notice outbox-other", t.other_user));
    const reason = store.problemText(item.problem);
    if (reason && item.state !== "sending") {
      const kind = item.state === "waiting" ? "muted small" : "outbox-reason";
      li.append(element("p", kind, reason));
    }
    const actions = element("div", "actions");
    if (own && item.state === "conflict" && item.current) {
      const isNeed = item.kind === "need-edit";
      li.append(isNeed ? needComparison(item, t) : commitmentComparison(item, t));
      if (isNeed) {
        actions.append(button(t.keep_mine, "primary outbox-keep-mine", async () => {
          await store.keepMine(item.id);
          sendNow(true);
        }));
      }
      actions.append(button(t.take_current, "secondary outbox-take-current", () =>
        store.remove(item.id)));
    } else if (own && item.state === "refused") {
      actions.append(button(t.dismiss, "secondary outbox-dismiss", () => store.remove(item.id)));
    } else if (own && item.state === "sign-in") {
      const link = element("a", "button primary", t.sign_in);
      link.href = `${t.login_url}?next=${encodeURIComponent(location.pathname)}`;
      actions.append(link);
    }
    if (actions.childElementCount) li.append(actions);
    return li;
  }

  window.KsbbOutboxPage = {
    render: function (items, userIdNow) {
      const t = texts();
      const list = page.querySelector(".outbox-list");
      const empty = page.querySelector(".outbox-empty");
      list.replaceChildren(...items.map((item) => itemView(item, t, userIdNow)));
      empty.hidden = items.length > 0;
      page.dataset.count = String(items.length);
      page.dataset.ready = "1";
      const offline = page.querySelector(".outbox-offline");
      if (offline) offline.hidden = navigator.onLine;
    },
  };

  if (page) {
    const now = page.querySelector(".outbox-send-now");
    if (now) now.addEventListener("click", () => sendNow(true));
  }

  document.addEventListener("submit", (event) => { onSubmit(event); }, true);
  window.addEventListener("online", () => sendNow(true));
  window.addEventListener("offline", () => refresh());
  if ("BroadcastChannel" in window) {
    new BroadcastChannel("ksbb-outbox").onmessage = () => refresh();
  }
  if (navigator.serviceWorker) {
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data && event.data.outbox) refresh();
    });
  }
  if (userId) store.setMeta("session", { userId: userId, csrfToken: csrfToken }).catch(() => {});
  refresh().then(() => sendNow(true));
})();
