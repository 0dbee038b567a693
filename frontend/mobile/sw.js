// CertDesk 移动软盾: the app's service worker, served at /m/sw.js with scope /m/.
// It keeps the app shell (the page at /m and the hashed files of /mobile-app/ it loads) so
// the app opens without a network and says 离线. The API is never cached: every answer about
// a shield comes from the server at the time it is asked.
const CACHE = "certdesk-mobile-v1";
const SHELL = "/m";

// The shell, the files its page names (the hashed .js, .wasm and .css) and the pages' wasm
// chunks, which the split loader (`__wasm_split-<hash>.js`) names as "./<chunk>-<hash>.wasm".
async function cacheShell() {
  const cache = await caches.open(CACHE);
  const res = await fetch(SHELL, { cache: "no-cache" });
  if (!res.ok) return;
  const html = await res.clone().text();
  await cache.put(SHELL, res);
  const assets = new Set();
  for (const m of html.matchAll(/["'](\/mobile-app\/[^"'?#]+)["']/g)) assets.add(m[1]);
  for (const m of html.matchAll(/["'](\/public\/[^"'?#]+)["']/g)) assets.add(m[1]);
  await Promise.all([...assets].map((a) => cache.add(a).catch(() => undefined)));
  for (const loader of [...assets].filter((a) => a.startsWith("/mobile-app/__wasm_split-"))) {
    const hit = await cache.match(loader);
    if (!hit) continue;
    const chunks = [...(await hit.text()).matchAll(/"\.\/([^"\/]+\.wasm)"/g)].map((m) => "/mobile-app/" + m[1]);
    await Promise.all(chunks.map((c) => cache.add(c).catch(() => undefined)));
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil(cacheShell().then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  // The API: the network only (the app says 离线 when it cannot be reached).
  if (url.pathname.startsWith("/api/")) return;
  // Pages of the app: the network first, so a new version shows at once; the shell offline.
  if (req.mode === "navigate" && (url.pathname === "/m" || url.pathname.startsWith("/m/"))) {
    event.respondWith(
      fetch(req)
        .then((res) => {
          if (res.ok) {
            const copy = res.clone();
            caches.open(CACHE).then((c) => c.put(SHELL, copy));
          }
          return res;
        })
        .catch(() => caches.match(SHELL).then((r) => r || Response.error())),
    );
    return;
  }
  // The bundle's hashed files, the texts of a language besides the default (fetched when it
  // is chosen) and the icons never change under one name: the cache first.
  const kept = ["/mobile-app/", "/texts/", "/public/"];
  if (kept.some((dir) => url.pathname.startsWith(dir))) {
    event.respondWith(
      caches.match(req).then(
        (hit) =>
          hit ||
          fetch(req).then((res) => {
            if (res.ok) {
              const copy = res.clone();
              caches.open(CACHE).then((c) => c.put(req, copy));
            }
            return res;
          }),
      ),
    );
  }
});
