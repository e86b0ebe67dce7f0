// The waiting room's service worker (leave and come back, docs/page.md): served at
// /waitroom-sw.js with the scope "/" so that it covers every room's page, and registered by
// room.js only when a visitor presses "Notify me on this device". It does one thing: show the
// server's Web Push messages ("almost your turn", "it's your turn") and, when one is pressed,
// bring the visitor back to their place (the message's url, the place's resume link). It caches
// nothing and handles no fetches, so the pages behave exactly as without it.
'use strict';

self.addEventListener('install', function () {
  self.skipWaiting();
});

self.addEventListener('activate', function (event) {
  event.waitUntil(self.clients.claim());
});

// Only http(s) links: a message never opens anything else.
function safeUrl(url) {
  try {
    var u = new URL(url, self.location.origin);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch (e) {
    return null;
  }
}

// {kind: "turn_near"|"turn", room, position, title, body, url, tag} (notify/push_sender.cpp).
self.addEventListener('push', function (event) {
  var data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (e) {
    data = { body: event.data ? event.data.text() : '' };
  }
  var title = typeof data.title === 'string' && data.title ? data.title : 'Waiting room';
  var url = safeUrl(data.url || '/') || self.location.origin + '/';
  var options = {
    body: typeof data.body === 'string' ? data.body : '',
    tag: typeof data.tag === 'string' && data.tag ? data.tag : 'waitroom',
    // "It's your turn" replaces "almost your turn" (one tag per room) and stays until pressed.
    renotify: true,
    requireInteraction: data.kind === 'turn',
    data: { url: url, room: typeof data.room === 'string' ? data.room : '' }
  };
  event.waitUntil(self.registration.showNotification(title, options));
});

// A window already on the place (or on the room's page) is focused; otherwise the link opens.
self.addEventListener('notificationclick', function (event) {
  event.notification.close();
  var data = event.notification.data || {};
  var url = safeUrl(data.url || '/') || self.location.origin + '/';
  var roomPath = data.room ? '/r/' + data.room : null;
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then(function (windows) {
      var i;
      for (i = 0; i < windows.length; i++) {
        if (windows[i].url === url && 'focus' in windows[i]) return windows[i].focus();
      }
      if (roomPath) {
        for (i = 0; i < windows.length; i++) {
          var path = '';
          try { path = new URL(windows[i].url).pathname; } catch (e) { /* not a URL we know */ }
          if (path === roomPath && 'focus' in windows[i]) return windows[i].focus();
        }
      }
      if (self.clients.openWindow) return self.clients.openWindow(url);
      return undefined;
    })
  );
});
