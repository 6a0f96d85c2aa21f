/* The service worker's side of the offline outbox: where the browser has Background Sync,
   the 'ksbb-outbox' sync sends what waits even when no page of the portal is open, as the
   signed-in person the last page saw (its user id and CSRF token, kept in IndexedDB by
   outbox.js). A failed send makes the sync fail, so the browser tries again later. */
/* global importScripts, KsbbOutbox */
importScripts("/static/js/outbox-store.js");

self.addEventListener("sync", (event) => {
  if (event.tag !== "ksbb-outbox") return;
  event.waitUntil(
    KsbbOutbox.getMeta("session").then(async (session) => {
      if (!session || !session.userId) return;
      const result = await KsbbOutbox.flush({
        userId: session.userId, csrfToken: session.csrfToken, force: true,
      });
      const pages = await self.clients.matchAll({ type: "window" });
      pages.forEach((page) => page.postMessage({ outbox: true }));
      if (result && result.stopped === "retry") throw new Error("outbox: network still down");
    })
  );
});
