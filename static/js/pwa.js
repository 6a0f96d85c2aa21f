/* The installable app's page side: registers the service worker (js/sw.js through
   /serviceworker.js), tells it who is signed in (another person, or nobody, makes it delete
   the pages it saved), warms the signed-in person's field pages for use without a network
   (the list comes from <html data-warm-url>; done: <html data-offline-ready="1">), asks for
   persistent storage, and shows how fresh the screen is: a bar when the phone is offline,
   when the page was made more than STALE_MS ago (a saved copy), or when the map's data came
   from the cache. */
(function () {
  "use strict";

  var root = document.documentElement;
  var body = document.body;
  var bar = document.getElementById("freshness-bar");
  var STALE_MS = 2 * 60 * 1000;
  // Warmed again after this long: on the workspace, and on any other page.
  var WARM_WORKSPACE_MS = 2 * 60 * 1000;
  var WARM_ELSEWHERE_MS = 15 * 60 * 1000;
  var renderedAt = Date.parse(root.dataset.renderedAt || "");
  var loadedAt = Date.now();
  var dataSavedAt = null;

  function when(date) {
    var lang = root.lang === "en" ? "en-GB" : "id-ID";
    var zone = root.dataset.timeZone || undefined;
    var time = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: zone });
    var day = new Intl.DateTimeFormat(lang, { day: "numeric", month: "short", timeZone: zone });
    return time.format(date) + ", " + day.format(date);
  }

  function showFreshness() {
    if (!bar || isNaN(renderedAt)) return;
    var offline = navigator.onLine === false;
    var savedAt = offline || loadedAt - renderedAt > STALE_MS ? renderedAt : null;
    if (dataSavedAt && (!savedAt || dataSavedAt < savedAt)) savedAt = dataSavedAt;
    if (!offline && !savedAt) {
      bar.hidden = true;
      delete root.dataset.freshness;
      return;
    }
    savedAt = savedAt || renderedAt;
    var text = offline ? bar.dataset.offline : bar.dataset.saved;
    bar.textContent = text + " " + when(new Date(savedAt));
    bar.dataset.savedAt = new Date(savedAt).toISOString();
    bar.hidden = false;
    root.dataset.freshness = offline ? "offline" : "saved";
  }

  showFreshness();
  window.addEventListener("online", showFreshness);
  window.addEventListener("offline", showFreshness);
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { loadedAt = Date.now(); showFreshness(); }
  });

  if (!("serviceWorker" in navigator) || !root.dataset.swUrl) return;

  navigator.serviceWorker.addEventListener("message", function (event) {
    var message = event.data || {};
    if (message.type !== "ksbb-from-cache") return;
    var savedAt = Date.parse(message.savedAt || "");
    if (isNaN(savedAt)) savedAt = renderedAt;
    if (!dataSavedAt || savedAt < dataSavedAt) dataSavedAt = savedAt;
    root.dataset.dataFromCache = "1";
    showFreshness();
  });
  navigator.serviceWorker.startMessages();

  function ask(worker, message) {
    return new Promise(function (resolve, reject) {
      var channel = new MessageChannel();
      channel.port1.onmessage = function (event) {
        if (event.data && event.data.ok) resolve(event.data.result);
        else reject(new Error(event.data ? event.data.error : "no answer"));
      };
      worker.postMessage(message, [channel.port2]);
    });
  }

  function ready() { root.dataset.offlineReady = "1"; }

  function warm(worker, user, state) {
    var onWorkspace = location.pathname === root.dataset.workspaceUrl;
    var age = state && state.warmedAt ? Date.now() - state.warmedAt : Infinity;
    if (age < (onWorkspace ? WARM_WORKSPACE_MS : WARM_ELSEWHERE_MS) || navigator.onLine === false) {
      if (state && state.warmedAt) ready();
      return null;
    }
    return fetch(root.dataset.warmUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok || response.redirected) throw new Error("warm list: " + response.status);
        return response.json();
      })
      .then(function (list) { return ask(worker, { type: "ksbb-warm", user: user, urls: list.urls }); })
      .then(ready);
  }

  function persist() {
    if (!navigator.storage || !navigator.storage.persist) return;
    navigator.storage.persisted().then(function (done) { return done || navigator.storage.persist(); })
      .catch(function () {});
  }

  navigator.serviceWorker.register(root.dataset.swUrl, { scope: "/" })
    .then(function () { return navigator.serviceWorker.ready; })
    .then(function (registration) {
      // Pages without the attribute (none of the portal's own) say nothing about who is in.
      if (!body.hasAttribute("data-user-id")) return null;
      var user = body.dataset.userId || "";
      var worker = registration.active;
      return ask(worker, { type: "ksbb-user", user: user }).then(function (state) {
        if (!user || !root.dataset.warmUrl) return null;
        persist();
        return warm(worker, user, state);
      });
    })
    .catch(function (error) {
      // Offline use is a bonus: a browser that refuses it still has every page online.
      if (window.console) console.warn("KSBB offline pages:", error);
    });
})();
