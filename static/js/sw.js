/* The service worker's logic (served through /serviceworker.js, which sets self.KSBB_SW:
   the cache version, the shell's files, the offline page, the paths never saved).

   - The shell (styles, scripts, Leaflet, icons, the offline page) is saved at install, in a
     cache named after the version, so a deploy replaces it.
   - Pages: network first; a navigation waits navigationTimeoutMs for it (a slow phone link),
     then shows the saved copy, then the offline page.
   - Map data (/peta/data/): versioned files (geometry, need state with ?v=) from the cache
     first; the rest stale-while-revalidate. Served from the cache because the network
     failed, the page is told (js/pwa.js shows how old the data is).
   - Pages and data are saved per signed-in person, in caches named after their id, and only
     while someone is signed in: signing out, or another id seen by js/pwa.js, deletes them,
     so a shared phone never shows the last person's workspace. Never saved: the API, the
     admin, signing in, POSTs, files and downloads (see ksbb/pwa.py NEVER_SAVED). */
(function () {
  "use strict";

  var config = self.KSBB_SW;
  var VERSION = config.version;
  var SHELL = "ksbb-shell-" + VERSION;
  var STATIC = "ksbb-static-" + VERSION;
  var STATE = "ksbb-state";  // who is signed in and when their pages were warmed
  var STATE_KEY = "/__ksbb-state__";
  var PAGES = "ksbb-pages-";
  var never = config.neverSaved.map(function (pattern) { return new RegExp(pattern); });
  var currentUser = null;  // null: not read yet; "": nobody signed in

  function pagesCache(user) { return PAGES + VERSION + "-u" + user; }

  function isNeverSaved(url) {
    var path = url.pathname + url.search;
    return never.some(function (pattern) { return pattern.test(path); });
  }

  async function readState() {
    var cache = await caches.open(STATE);
    var response = await cache.match(STATE_KEY);
    return response ? response.json() : { user: "", warmedAt: null };
  }

  async function writeState(state) {
    var cache = await caches.open(STATE);
    await cache.put(STATE_KEY, new Response(JSON.stringify(state), {
      headers: { "Content-Type": "application/json" },
    }));
  }

  async function userId() {
    if (currentUser === null) currentUser = String((await readState()).user || "");
    return currentUser;
  }

  // Deletes every person's pages but `keep`'s (of this version).
  async function forgetOthers(keep) {
    var names = await caches.keys();
    await Promise.all(names.filter(function (name) {
      return name.indexOf(PAGES) === 0 && !(keep && name === pagesCache(keep));
    }).map(function (name) { return caches.delete(name); }));
  }

  async function setUser(user) {
    user = String(user || "");
    var state = await readState();
    currentUser = user;
    if (state.user !== user) {
      await forgetOthers(user);
      state = { user: user, warmedAt: null };
      await writeState(state);
    } else if (!user) {
      await forgetOthers("");
    }
    // Pages warmed by an earlier version were deleted with its caches.
    return state.version === VERSION ? state : { user: user, warmedAt: null };
  }

  function savable(response) {
    if (!response || response.status !== 200 || response.type !== "basic" || response.redirected) return false;
    if (response.headers.get("Content-Disposition")) return false;  // a download
    if (/no-store/.test(response.headers.get("Cache-Control") || "")) return false;
    var type = response.headers.get("Content-Type") || "";
    return type.indexOf("text/html") === 0 || type.indexOf("application/json") === 0;
  }

  // A copy with the time it was saved, which the pages show when they are drawn from it.
  async function stamped(response) {
    var headers = new Headers(response.headers);
    headers.set("X-KSBB-Saved-At", new Date().toISOString());
    var body = await response.blob();
    return new Response(body, { status: response.status, statusText: response.statusText, headers: headers });
  }

  async function save(cacheName, request, response) {
    var cache = await caches.open(cacheName);
    await cache.put(request, await stamped(response));
  }

  async function saved(cacheName, request, options) {
    var cache = await caches.open(cacheName);
    return cache.match(request, Object.assign({ ignoreVary: true }, options || {}));
  }

  function timeout(ms) {
    return new Promise(function (resolve, reject) {
      setTimeout(function () { reject(new Error("timeout")); }, ms);
    });
  }

  // The network's answer, and a copy saved for `user` if it is worth keeping.
  function fetchAndSave(event, user) {
    var copy = null;
    var network = fetch(event.request).then(function (response) {
      if (user && savable(response)) copy = response.clone();
      return response;
    });
    event.waitUntil(network.then(function () {
      return copy && save(pagesCache(user), event.request, copy);
    }).catch(function () {}));
    return network;
  }

  async function offlinePage() {
    return (await saved(SHELL, config.offlinePage)) || Response.error();
  }

  async function page(event, navigation) {
    var user = await userId();
    var network = fetchAndSave(event, user);
    try {
      return await (navigation ? Promise.race([network, timeout(config.navigationTimeoutMs)]) : network);
    } catch (error) {
      var copy = user && (await saved(pagesCache(user), event.request));
      if (copy) return copy;
      if (!navigation) throw error;
      // Slow, not gone, and nothing saved: keep waiting for the network.
      return network.catch(offlinePage);
    }
  }

  function tell(clientId, message) {
    if (!clientId) return Promise.resolve();
    return self.clients.get(clientId).then(function (client) { if (client) client.postMessage(message); });
  }

  function fromCache(event, response) {
    event.waitUntil(tell(event.clientId, {
      type: "ksbb-from-cache",
      url: event.request.url,
      savedAt: response.headers.get("X-KSBB-Saved-At") || response.headers.get("Date"),
    }));
    return response;
  }

  async function mapData(event) {
    var user = await userId();
    if (!user) return fetch(event.request);
    var url = new URL(event.request.url);
    var versioned = /\/geometri-[^/]+\.json$/.test(url.pathname) || url.searchParams.has("v");
    var copy = await saved(pagesCache(user), event.request);
    if (copy && versioned) return copy;
    var network = fetchAndSave(event, user);
    if (copy) {
      event.waitUntil(network.catch(function () { return fromCache(event, copy); }));
      return copy;
    }
    try {
      return await network;
    } catch (error) {
      var older = await olderVersion(pagesCache(user), event.request);
      if (older) return fromCache(event, older);
      throw error;
    }
  }

  // The same data (same filters) saved under an earlier ?v= version, the latest saved.
  async function olderVersion(cacheName, request) {
    function unversioned(href) {
      var url = new URL(href);
      url.searchParams.delete("v");
      url.searchParams.sort();
      return url.href;
    }
    var wanted = unversioned(request.url);
    var cache = await caches.open(cacheName);
    var keys = await cache.keys(request, { ignoreSearch: true, ignoreVary: true });
    for (var i = keys.length - 1; i >= 0; i -= 1) {
      if (unversioned(keys[i].url) === wanted) return cache.match(keys[i], { ignoreVary: true });
    }
    return null;
  }

  async function staticFile(event) {
    var shell = await saved(SHELL, event.request);
    if (shell) return shell;
    var copy = await saved(STATIC, event.request);
    var network = fetch(event.request).then(function (response) {
      if (response.ok && response.type === "basic") {
        var clone = response.clone();
        event.waitUntil(caches.open(STATIC).then(function (cache) { return cache.put(event.request, clone); }));
      }
      return response;
    });
    if (copy) {
      event.waitUntil(network.catch(function () {}));
      return copy;
    }
    return network;
  }

  self.addEventListener("install", function (event) {
    event.waitUntil(caches.open(SHELL).then(function (cache) {
      return cache.addAll(config.shell.map(function (url) { return new Request(url, { cache: "reload" }); }));
    }).then(function () { return self.skipWaiting(); }));
  });

  self.addEventListener("activate", function (event) {
    var keep = [SHELL, STATIC, STATE];
    event.waitUntil(caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf("ksbb-") === 0 && keep.indexOf(name) < 0 && name.indexOf(PAGES + VERSION + "-") !== 0;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); }));
  });

  self.addEventListener("fetch", function (event) {
    var request = event.request;
    var url = new URL(request.url);
    if (url.origin !== self.location.origin) return;
    if (request.method !== "GET") {
      // Signing out forgets the person's pages at once (js/pwa.js does it again on the
      // next page, should this request fail).
      if (url.pathname === config.logout) {
        currentUser = "";
        event.waitUntil(setUser(""));
      }
      return;
    }
    if (isNeverSaved(url)) return;
    if (url.pathname.indexOf("/static/") === 0) event.respondWith(staticFile(event));
    else if (url.pathname.indexOf("/peta/data/") === 0) event.respondWith(mapData(event));
    else if (request.mode === "navigate") event.respondWith(page(event, true));
    // Pages' own requests (an area's panel on the map, a status poll); images and other
    // files outside /static/ go straight to the network.
    else if (request.destination === "") event.respondWith(page(event, false));
  });

  // A request that carries no CSRF cookie is answered with a new one, which would void the
  // token of a sign-in form open in a tab (cookies cleared, or another person signing in):
  // warm only while the cookie is there (cookieStore, where the browser has it in workers).
  async function csrfCookieKept() {
    if (!self.cookieStore || !config.csrfCookie) return true;
    try {
      return Boolean(await self.cookieStore.get(config.csrfCookie));
    } catch (error) {
      return true;
    }
  }

  // Warms the person's pages one at a time (the server is a phone link away), stopping if
  // someone else signs in meanwhile, or the session ended (a page sends to sign-in).
  async function warm(user, urls) {
    var cache = await caches.open(pagesCache(user));
    var result = { saved: 0, failed: 0 };
    for (var i = 0; i < urls.length && currentUser === user; i += 1) {
      var url = new URL(urls[i], self.location.origin);
      if (url.origin !== self.location.origin || isNeverSaved(url)) continue;
      if (!(await csrfCookieKept())) return result;
      try {
        var response = await fetch(url.href, { credentials: "same-origin", redirect: "manual" });
        if (response.type === "opaqueredirect") return result;  // signed out: keep nothing more
        if (savable(response)) {
          await cache.put(url.href, await stamped(response));
          result.saved += 1;
        } else {
          result.failed += 1;
        }
      } catch (error) {
        result.failed += 1;
      }
    }
    if (currentUser === user) await writeState({ user: user, warmedAt: Date.now(), version: VERSION });
    return result;
  }

  // One warm at a time: pages opened while it runs wait for the same one instead of
  // fetching the list again beside it.
  var warming = null;

  async function answer(message) {
    if (message.type === "ksbb-user") return setUser(message.user);
    if (message.type === "ksbb-warm") {
      if (!message.user) return null;
      await setUser(message.user);
      if (!warming) {
        warming = warm(String(message.user), message.urls || []).finally(function () {
          warming = null;
        });
      }
      return warming;
    }
    return null;
  }

  self.addEventListener("message", function (event) {
    var message = event.data || {};
    if (typeof message.type !== "string" || message.type.indexOf("ksbb-") !== 0) return;
    if (message.type.indexOf("ksbb-outbox") === 0) return;  // the outbox's (outbox-sw.js)
    var port = event.ports && event.ports[0];
    event.waitUntil(answer(message).then(function (result) {
      if (port) port.postMessage({ ok: true, result: result });
    }, function (error) {
      if (port) port.postMessage({ ok: false, error: String(error) });
    }));
  });
})();
