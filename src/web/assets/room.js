// The waiting-room page, live. The server renders every state (the page works without this
// script); this script keeps it current without reloading:
//  - the ticket's updates come by Server-Sent Events (GET /v1/rooms/{room}/tickets/{ticket}/events,
//    "status" events carrying the ticket JSON), or, when EventSource is missing or fails, by
//    polling GET /v1/rooms/{room}/tickets/{ticket}: first after 1 s, then doubling up to the
//    server's Retry-After (or 30 s without one); after errors doubling up to 30 s and never sooner
//    than a Retry-After;
//  - the room's state (paused, pre-queue, closed, sold out) by GET /v1/rooms/{room} every 15 s;
//  - the operators' message (the banner above the card, a polite live region outside the swapped
//    region) from the stream's "message" events and the `message` of every ticket or room answer,
//    always as text;
//  - numbers change in place; when the view itself changes (your turn, paused, place ended, the
//    line opened, sold out or open again) the page fetches its own fresh rendering and swaps the
//    main region, so the server's template, translations and theme stay the only markup;
//  - position changes are announced in the polite live region at most once every 30 s, status
//    changes at once; "your turn" also moves focus to the Continue button;
//  - a pre-queue countdown ticks every second (never announced);
//  - in a room asking for proof of work (data-wr-pow), Join first fetches a challenge and finds
//    a nonce whose SHA-256 starts with that many zero bits, in slices that keep the page live;
//  - "Notify me" (leave and come back): the e-mail and cancel forms go to the JSON API
//    (PUT/DELETE /v1/rooms/{room}/tickets/{ticket}/notify) instead of a page load, and where the
//    browser takes push messages a button subscribes this device: only when pressed does it ask
//    for permission, register the service worker (/waitroom-sw.js) and subscribe with the key of
//    GET /v1/notify. The notice's state is the server's rendering, swapped in when it changes.
// docs/page.md describes the data-wr-* hooks a theme's template keeps.
(function () {
  'use strict';

  var ANNOUNCE_GAP_MS = 30000;
  var FIRST_POLL_MS = 1000;
  var MAX_POLL_MS = 30000;
  var ROOM_POLL_MS = 15000;
  var SSE_MAX_ERRORS = 3;

  var root = document.querySelector('[data-wr-room]');
  if (!root) return;
  var live = document.getElementById('wr-live');
  var messageBox = document.querySelector('[data-wr-message]');
  var messageText = messageBox && messageBox.querySelector('[data-wr-message-text]');

  var state = null;          // what the current rendering shows
  var strings = {};
  var transport = null;      // {stop()} of the running ticket updates
  var roomTimer = null;
  var countdownTimer = null;
  var swapping = false;
  var swapAgain = false;
  var lastAnnounceAt = 0;
  var announceTimer = null;
  var announcedAhead = null;

  function readState() {
    var d = root.dataset;
    var sig = (d.wrSig || '').split('|');
    strings = safeJson(d.wrStrings) || {};
    state = {
      room: d.wrRoom,
      ticket: d.wrTicket || null,
      view: sig[0],
      roomStatus: sig[1],
      queueing: sig[2],
      lang: d.wrLang || document.documentElement.lang || 'en',
      page: d.wrPage || location.pathname + location.search,
      ahead: d.wrAhead !== undefined ? Number(d.wrAhead) : null,
      startAhead: d.wrStartAhead !== undefined ? Number(d.wrStartAhead) : null,
      eventStart: d.wrEventStart !== undefined ? Number(d.wrEventStart) : null,
      // Server clock minus ours, so the countdown ends when the server's start comes.
      clockOffsetS: d.wrNow !== undefined ? Number(d.wrNow) - Date.now() / 1000 : 0,
      drawing: d.wrDrawing || '',
      hasEta: d.wrEta === '1' || d.wrEta === 'configured',
      etaConfigured: d.wrEta === 'configured',
      // The notice's "channel:near:turn" ('' without one); null: the page offers no notices.
      notify: d.wrNotify !== undefined ? d.wrNotify : null
    };
    if (announcedAhead === null) announcedAhead = state.ahead;
  }

  function safeJson(text) {
    try { return text ? JSON.parse(text) : null; } catch (e) { return null; }
  }

  // ---- words and numbers, as the server writes them ----------------------------------------
  function t(key, vars) {
    var text = strings[key] || '';
    return text.replace(/\{([a-z0-9_]+)\}/g, function (all, name) {
      return vars && vars[name] !== undefined ? vars[name] : all;
    });
  }
  function plural(key, n, vars) {
    var category = 'other';
    try { category = new Intl.PluralRules(state.lang).select(n); } catch (e) { /* old browser */ }
    var k = strings[key + '_' + category] !== undefined ? key + '_' + category : key + '_other';
    return t(k, vars);
  }
  function num(n) {
    try { return new Intl.NumberFormat(state.lang).format(n); } catch (e) { return String(n); }
  }
  function duration(s) {
    if (s < 60) return t('duration_under_minute');
    var minutes = Math.ceil(s / 60);
    if (minutes < 60) return t('duration_minutes', { m: num(minutes) });
    var h = Math.floor(minutes / 60);
    var m = minutes % 60;
    if (m === 0) return t('duration_hours', { h: num(h) });
    return t('duration_hours_minutes', { h: num(h), m: String(m) });
  }
  function two(n) { return n < 10 ? '0' + n : String(n); }
  function countdown(s) {
    s = Math.max(0, Math.floor(s));
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    var sec = s % 60;
    if (h > 0) return t('countdown_hms', { h: num(h), m: two(m), s: two(sec) });
    if (m > 0) return t('countdown_ms', { m: String(m), s: two(sec) });
    return t('countdown_s', { s: String(sec) });
  }
  function progressPercent(start, ahead) {
    if (ahead >= start) return 0;
    return Math.floor((1 - (ahead + 1) / (start + 1)) * 100);
  }

  // ---- the DOM -----------------------------------------------------------------------------
  function setText(name, text) {
    var nodes = root.querySelectorAll('[data-wr="' + name + '"]');
    for (var i = 0; i < nodes.length; i++) {
      if (nodes[i].textContent !== text) nodes[i].textContent = text;
    }
  }
  function announce(text) {
    if (!live || !text) return;
    // Emptied first so that the same words are announced again.
    live.textContent = '';
    setTimeout(function () { live.textContent = text; }, 100);
  }
  function announceNow(text) {
    clearTimeout(announceTimer);
    announceTimer = null;
    lastAnnounceAt = Date.now();
    announce(text);
  }
  // Position changes: at most one announcement every 30 s, always of the latest number.
  function positionChanged() {
    if (state.ahead === null || state.ahead === announcedAhead || announceTimer) return;
    var wait = lastAnnounceAt + ANNOUNCE_GAP_MS - Date.now();
    if (wait <= 0) announceAhead();
    else announceTimer = setTimeout(announceAhead, wait);
  }
  function announceAhead() {
    announceTimer = null;
    if (state.ahead === null || state.ahead === announcedAhead) return;
    announcedAhead = state.ahead;
    lastAnnounceAt = Date.now();
    announce(state.ahead === 0 ? t('announce_next') : plural('announce_ahead', state.ahead, { ahead: num(state.ahead) }));
  }
  // While updates flow, "Check again" is not needed; when they stop, it is offered again. A swap
  // brings the server's rendering, which offers it: bind() applies what is true now.
  var connectionTrouble = true;
  function showConnectionTrouble(on) {
    connectionTrouble = on;
    var node = root.querySelector('[data-wr="connection"]');
    if (node) node.hidden = !on;
    var check = root.querySelector('[data-wr="check-again"]');
    if (check) check.hidden = !on;
  }

  // ---- updates -----------------------------------------------------------------------------
  // The operators' message: {text, set_at}, {text: null} or null (none); undefined (an answer
  // without the field) changes nothing. Set as text, never as HTML; the banner is a polite live
  // region, so a new message is read out by itself.
  function onMessage(message) {
    if (message === undefined || !messageBox || !messageText) return;
    var text = message && typeof message.text === 'string' ? message.text : '';
    if (messageText.textContent !== text) messageText.textContent = text;
    if (messageBox.hidden !== (text === '')) messageBox.hidden = text === '';
  }

  function viewOfTicket(ticket) {
    // Waiting in a sold-out room: the place is kept, but no turn comes unless items come back.
    if (ticket.status === 'waiting') return ticket.sold_out ? 'sold_out' : 'waiting';
    if (ticket.status === 'eligible' || ticket.status === 'admitted') return 'eligible';
    return 'ended';
  }

  // A ticket update (SSE event or poll). Returns whether anything the page shows changed.
  function onTicket(ticket) {
    if (!ticket || ticket.ticket !== state.ticket) return false;
    onMessage(ticket.message);
    var view = viewOfTicket(ticket);
    if (view !== state.view) {
      swap();
      return true;
    }
    if (view !== 'waiting') return false;
    // Leave and come back: a notice chosen or stopped (here or in another tab), a message sent
    // or given up: the server's rendering has the words for it.
    if (state.notify !== null) {
      if (notifySig(ticket.notify) !== state.notify) {
        swap();
        return true;
      }
      if (ticket.notify) showAwayUntil(ticket.notify.away_until);
    }
    // A drawing's entrant: drawn, a winner's turn come free, a waitlist number gone down. The
    // server's rendering has the words for each.
    var drawing = ticket.drawing ? ticket.drawing.status +
      (ticket.drawing.status === 'waitlist' ? ':' + ticket.drawing.waitlist_position : '') : '';
    if (drawing !== state.drawing) {
      swap();
      return true;
    }
    if (drawing.indexOf('waitlist') === 0) return false;  // no place in line to show, no estimate
    var changed = false;
    if (typeof ticket.ahead === 'number' && ticket.ahead !== state.ahead) {
      if (state.ahead === null) { swap(); return true; }  // the pre-queue was drawn
      state.ahead = ticket.ahead;
      if (state.startAhead === null || state.startAhead < ticket.ahead) state.startAhead = ticket.ahead;
      setText('ahead', num(ticket.ahead));
      setText('ahead-label', ticket.ahead === 0 ? t('ahead_none') : plural('ahead', ticket.ahead));
      var percent = progressPercent(state.startAhead, ticket.ahead);
      var bar = root.querySelector('[data-wr="progress"]');
      if (bar) bar.value = percent;
      setText('progress-label', t('progress_label', { progress: num(percent) }));
      positionChanged();
      changed = true;
    }
    if (!!ticket.eta !== state.hasEta ||
        (ticket.eta && (ticket.eta.basis === 'configured') !== state.etaConfigured)) {
      // An estimate appeared or went away (the room paused or resumed, the line started or
      // stopped moving), or it now stands on the observed pace: the server's rendering has the
      // right words for it.
      refreshRoom();
      swap();
      return true;
    }
    if (ticket.eta) {
      var p50 = duration(ticket.eta.p50_s);
      var p90 = duration(ticket.eta.p90_s);
      setText('eta', p50 === p90 ? p50 : t('eta_range', { p50: p50, p90: p90 }));
      setText('eta-detail', t(p50 === p90 ? 'eta_detail_one' : 'eta_detail', { p50: p50, p90: p90 }));
    }
    return changed;
  }

  function onRoom(room) {
    if (!room || room.room !== state.room) return;
    onMessage(room.message);
    var status = room.status;
    var queueing = room.queueing;
    if (status !== state.roomStatus || queueing !== state.queueing) swap();
  }

  // Fetches this page's current rendering and puts its main region in place of ours; `then`
  // runs once a rendering fetched after this call is in place.
  var swapThen = [];     // for the swap in flight
  var swapThenNext = []; // for the one after it
  function swap(then) {
    if (swapping) {
      if (then) swapThenNext.push(then);
      swapAgain = true;
      return;
    }
    if (then) swapThen.push(then);
    swapping = true;
    var hadFocus = root.contains(document.activeElement);
    fetch(state.page, { headers: { Accept: 'text/html' }, credentials: 'same-origin', cache: 'no-store' })
      .then(function (r) {
        if (!r.ok) throw new Error('page ' + r.status);
        return r.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var fresh = doc.querySelector('[data-wr-room]');
        if (!fresh) throw new Error('no [data-wr-room] in the page');
        var before = state;
        fresh = document.importNode(fresh, true);
        root.replaceWith(fresh);
        root = fresh;
        if (doc.title) document.title = doc.title;
        var freshMessage = doc.querySelector('[data-wr-message]');
        var freshText = freshMessage && freshMessage.querySelector('[data-wr-message-text]');
        if (freshText) onMessage(freshMessage.hidden ? null : { text: freshText.textContent });
        announcedAhead = null;
        readState();
        bind();
        var focus = root.querySelector('[data-wr-focus]');
        if (focus) focus.focus();
        else if (hadFocus) {
          var h1 = root.querySelector('h1');
          if (h1) h1.focus();
        }
        if (state.view !== before.view || state.roomStatus !== before.roomStatus) {
          announceNow(root.dataset.wrAnnounce);
        }
        if (state.ticket !== before.ticket || state.view !== before.view) startTicketUpdates();
        var done = swapThen;
        swapThen = [];
        for (var i = 0; i < done.length; i++) done[i]();
      })
      .catch(function () { /* the next update tries again */ })
      .then(function () {
        swapping = false;
        swapThen = swapThenNext;
        swapThenNext = [];
        if (swapAgain || swapThen.length) { swapAgain = false; swap(); }
      });
  }

  // ---- transports --------------------------------------------------------------------------
  function stopTicketUpdates() {
    if (transport) transport.stop();
    transport = null;
  }

  function startTicketUpdates() {
    stopTicketUpdates();
    showConnectionTrouble(false);
    if (!state.ticket || (state.view !== 'waiting' && state.view !== 'eligible' &&
        state.view !== 'sold_out')) return;
    if (typeof EventSource === 'function') transport = streamTicket();
    else transport = pollTicket();
  }

  function ticketUrl() {
    return '/v1/rooms/' + encodeURIComponent(state.room) + '/tickets/' + encodeURIComponent(state.ticket);
  }

  function streamTicket() {
    var errors = 0;
    var stopped = false;
    var fallback = null;
    var source = new EventSource(ticketUrl() + '/events');
    // A stream that opened and later ended (a restart, a proxy's timeout) is no failure.
    source.onopen = function () { errors = 0; };
    source.addEventListener('status', function (e) {
      errors = 0;
      showConnectionTrouble(false);
      onTicket(safeJson(e.data));
    });
    source.addEventListener('message', function (e) {
      var message = safeJson(e.data);
      if (message) onMessage(message);
    });
    source.onerror = function () {
      if (stopped) return;
      // A refused stream (404, not text/event-stream) is CLOSED at once; a dropped one keeps
      // reconnecting by itself, until it has failed a few times in a row.
      errors += 1;
      if (source.readyState === EventSource.CLOSED || errors >= SSE_MAX_ERRORS) {
        source.close();
        fallback = pollTicket();
      }
    };
    return {
      stop: function () {
        stopped = true;
        source.close();
        if (fallback) fallback.stop();
      }
    };
  }

  function retryAfterMs(response) {
    var value = response.headers.get('Retry-After');
    if (!value) return null;
    var seconds = Number(value);
    if (isFinite(seconds)) return Math.max(0, seconds * 1000);
    var at = Date.parse(value);
    return isNaN(at) ? null : Math.max(0, at - Date.now());
  }

  function pollTicket() {
    var delay = FIRST_POLL_MS;
    var errorDelay = FIRST_POLL_MS;
    var failures = 0;
    var timer = null;
    var stopped = false;
    var inFlight = false;

    function schedule(ms) {
      clearTimeout(timer);
      timer = setTimeout(poll, ms);
    }
    function poll() {
      if (stopped || inFlight) return;
      inFlight = true;
      fetch(ticketUrl(), { headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' })
        .then(function (r) {
          var hint = retryAfterMs(r);
          if (r.ok) {
            return r.json().then(function (ticket) {
              failures = 0;
              errorDelay = FIRST_POLL_MS;
              showConnectionTrouble(false);
              var changed = onTicket(ticket);
              // Back off while nothing happens, up to the pace the server asks for; while the
              // line moves, keep the pace.
              var cap = hint !== null ? Math.min(Math.max(hint, FIRST_POLL_MS), MAX_POLL_MS) : MAX_POLL_MS;
              if (!changed) delay = Math.min(delay * 2, cap);
              return delay;
            });
          }
          if (r.status === 404 || r.status === 410) {
            // The place is gone (a reset, another epoch): the page says so.
            swap();
            return MAX_POLL_MS;
          }
          throw Object.assign(new Error('status ' + r.status), { hint: hint });
        })
        .catch(function (e) {
          failures += 1;
          if (failures >= 2) showConnectionTrouble(true);
          errorDelay = Math.min(errorDelay * 2, MAX_POLL_MS);
          return Math.max(errorDelay, (e && e.hint) || 0);
        })
        .then(function (next) {
          inFlight = false;
          if (!stopped) schedule(next);
        });
    }
    function onVisible() {
      if (document.visibilityState === 'visible') schedule(0);
    }
    document.addEventListener('visibilitychange', onVisible);
    schedule(FIRST_POLL_MS);
    return {
      stop: function () {
        stopped = true;
        clearTimeout(timer);
        document.removeEventListener('visibilitychange', onVisible);
      }
    };
  }

  function refreshRoom() {
    fetch('/v1/rooms/' + encodeURIComponent(state.room), {
      headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store'
    })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(onRoom)
      .catch(function () { /* tried again on the next tick */ });
  }

  // ---- the countdown and local times -------------------------------------------------------
  function tickCountdown() {
    if (state.eventStart === null) return;
    var left = state.eventStart - (Date.now() / 1000 + state.clockOffsetS);
    setText('countdown', countdown(Math.ceil(left)));
    if (left <= 0) {
      // The start: ask the room until it says the line is open (the draw takes a moment).
      clearInterval(countdownTimer);
      countdownTimer = setInterval(refreshRoom, 2000);
      refreshRoom();
    }
  }

  function localTimes() {
    var nodes = root.querySelectorAll('time[datetime]');
    for (var i = 0; i < nodes.length; i++) {
      var at = new Date(nodes[i].getAttribute('datetime'));
      if (isNaN(at.getTime())) continue;
      try {
        nodes[i].textContent = new Intl.DateTimeFormat(state.lang, { dateStyle: 'medium', timeStyle: 'short' }).format(at);
      } catch (e) { /* keep the server's UTC text */ }
    }
  }

  // Hooks on the current rendering (again after every swap).
  function bind() {
    var note = root.querySelector('[data-wr="live-note"]');
    if (note) note.hidden = false;
    if (transport) showConnectionTrouble(connectionTrouble);
    clearInterval(countdownTimer);
    countdownTimer = null;
    if (state.eventStart !== null && root.querySelector('[data-wr="countdown"]')) {
      tickCountdown();
      if (!countdownTimer) countdownTimer = setInterval(tickCountdown, 1000);
    }
    localTimes();
    var pushRow = root.querySelector('[data-wr="notify-push-row"]');
    if (pushRow) pushRow.hidden = !pushSupported();
    var away = root.querySelector('[data-wr="notify-away"]');
    if (away) showAwayUntil(away.getAttribute('data-wr-at'));
  }

  // ---- leave and come back: "Notify me" --------------------------------------------------
  function notifySig(n) {
    return n ? n.channel + ':' + n.turn_near + ':' + n.turn : '';
  }
  function pushSupported() {
    return 'serviceWorker' in navigator && 'PushManager' in window && typeof Notification !== 'undefined';
  }
  // "You can close this page: your place is kept until …", in the visitor's local time.
  function showAwayUntil(iso) {
    var node = root.querySelector('[data-wr="notify-away"]');
    var at = iso ? new Date(iso) : null;
    if (!node || !at || isNaN(at.getTime())) return;
    node.setAttribute('data-wr-at', iso);
    var when;
    try {
      when = new Intl.DateTimeFormat(state.lang, { dateStyle: 'medium', timeStyle: 'short' }).format(at);
    } catch (e) { return; }  // keep the server's UTC text
    var text = t('notify_away', { away_until: when });
    if (text && node.textContent !== text) node.textContent = text;
  }
  function notifyUrl() {
    return ticketUrl() + '/notify';
  }
  function showNotifyError(key) {
    var text = t(key);
    var node = root.querySelector('[data-wr="notify-error"]');
    if (node) {
      node.textContent = text;
      node.hidden = false;
    }
    announceNow(text);
  }
  function clearNotifyError() {
    var node = root.querySelector('[data-wr="notify-error"]');
    if (node) { node.hidden = true; node.textContent = ''; }
  }
  function busy(button, on) {
    if (!button) return;
    if (on) {
      if (!button.hasAttribute('data-wr-label')) button.setAttribute('data-wr-label', button.textContent);
      button.textContent = t('notify_working') || button.textContent;
      button.disabled = true;
    } else {
      if (button.hasAttribute('data-wr-label')) button.textContent = button.getAttribute('data-wr-label');
      button.removeAttribute('data-wr-label');
      button.disabled = false;
    }
  }
  // Set or stopped: the server's rendering shows the notice's state; focus goes to the section's
  // heading and the state is announced.
  function afterNotice(kind) {
    swap(function () {
      var heading = root.querySelector('#wr-notify-title');
      if (heading) heading.focus();
      var stateNode = root.querySelector('[data-wr="notify-state"]');
      announceNow(kind === 'cancel' ? t('notify_cancelled') : (stateNode ? stateNode.textContent : ''));
    });
  }
  // PUT (a body) or DELETE (none) the ticket's notice; resolves once the page says how it went.
  function sendNotice(body, button, kind) {
    var headers = { Accept: 'application/json' };
    if (body) headers['Content-Type'] = 'application/json';
    return fetch(notifyUrl(), {
      method: body ? 'PUT' : 'DELETE', headers: headers, credentials: 'same-origin', cache: 'no-store',
      body: body ? JSON.stringify(body) : undefined
    }).then(function (r) {
      if (r.ok) {
        // What the stream will say next is this answer: known now, it swaps nothing twice (a
        // second swap would move focus away from the section).
        return r.json().then(function (ticket) {
          if (ticket && ticket.ticket === state.ticket) state.notify = notifySig(ticket.notify);
        }, function () {}).then(function () { afterNotice(kind); });
      }
      busy(button, false);
      if (r.status === 404 || r.status === 410) { swap(); return; }  // the place has ended
      if (kind === 'email' && r.status === 400) showNotifyError('notify_invalid_email');
      else if (kind === 'push' && (r.status === 400 || r.status === 403)) showNotifyError('notify_push_failed');
      else showNotifyError('notify_unavailable');
    });
  }
  function onNotifySubmit(e) {
    var form = e.target;
    var kind = form && form.getAttribute ? form.getAttribute('data-wr-notify') : null;
    if (!kind || !root.contains(form) || !state.ticket) return;
    e.preventDefault();
    var button = form.querySelector('button[type="submit"]');
    if (button && button.disabled) return;
    clearNotifyError();
    busy(button, true);
    var body = null;
    if (kind === 'email') {
      var input = form.querySelector('input[name="email"]');
      body = { channel: 'email', email: input ? input.value.trim() : '', lang: state.lang };
    }
    // Without an answer (offline, a proxy in the way) the plain form tries: its page says how it went.
    sendNotice(body, button, kind).catch(function () { form.submit(); });
  }
  function base64urlBytes(text) {
    var b64 = text.replace(/-/g, '+').replace(/_/g, '/');
    while (b64.length % 4) b64 += '=';
    var raw = atob(b64);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  function sameKey(subscription, key) {
    var k = subscription.options && subscription.options.applicationServerKey;
    if (!k) return false;
    var a = new Uint8Array(k);
    if (a.length !== key.length) return false;
    for (var i = 0; i < a.length; i++) if (a[i] !== key[i]) return false;
    return true;
  }
  function askPermission() {
    return new Promise(function (resolve) {
      // Older Safari takes a callback; the others answer a promise.
      var p = Notification.requestPermission(resolve);
      if (p && typeof p.then === 'function') p.then(resolve, function () { resolve('default'); });
    });
  }
  function failure(code) {
    var e = new Error(code);
    e.code = code;
    return e;
  }
  // Only on the visitor's press: the permission prompt first (while the press still counts as
  // one), then the service worker, the server's key, the subscription, and the PUT.
  function subscribePush(button) {
    clearNotifyError();
    busy(button, true);
    var key = null;
    askPermission()
      .then(function (permission) {
        if (permission !== 'granted') throw failure('denied');
        return navigator.serviceWorker.register('/waitroom-sw.js', { scope: '/' });
      })
      .then(function () {
        return fetch('/v1/notify', { headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' });
      })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (setup) {
        if (!setup || !setup.push || !setup.push.public_key) throw failure('unavailable');
        key = setup.push;
        return navigator.serviceWorker.ready;
      })
      .then(function (registration) {
        var serverKey = base64urlBytes(key.public_key);
        return registration.pushManager.getSubscription().then(function (existing) {
          if (existing && sameKey(existing, serverKey)) return existing;
          // Made with a key this server no longer uses: a subscription holds one key.
          return (existing ? existing.unsubscribe() : Promise.resolve()).then(function () {
            return registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: serverKey });
          });
        });
      })
      .then(function (subscription) {
        return sendNotice({ channel: 'push', subscription: subscription.toJSON(), key_id: key.key_id, lang: state.lang },
          button, 'push');
      })
      .catch(function (e) {
        busy(button, false);
        showNotifyError(e && e.code === 'denied' ? 'notify_push_denied'
          : e && e.code === 'unavailable' ? 'notify_unavailable' : 'notify_push_failed');
      });
  }
  function onNotifyClick(e) {
    var button = e.target && e.target.closest ? e.target.closest('[data-wr="notify-push"]') : null;
    if (!button || !root.contains(button) || button.disabled || !state.ticket || !pushSupported()) return;
    subscribePush(button);
  }
  // On the document: the swapped region brings new forms and buttons.
  document.addEventListener('submit', onNotifySubmit);
  document.addEventListener('click', onNotifyClick);

  // ---- proof of work before a place (docs/security.md) -------------------------------------
  var SHA_K = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
  ];
  var shaW = new Int32Array(64);

  // The first 32 bits of SHA-256 of an ASCII string (challenges and nonces are ASCII).
  function sha256First32(text) {
    var n = text.length, blocks = ((n + 8) >> 6) + 1, words = new Int32Array(blocks * 16);
    for (var i = 0; i < n; i++) words[i >> 2] |= text.charCodeAt(i) << (24 - (i & 3) * 8);
    words[n >> 2] |= 0x80 << (24 - (n & 3) * 8);
    words[blocks * 16 - 1] = n * 8;
    var h0 = 0x6a09e667, h1 = 0xbb67ae85, h2 = 0x3c6ef372, h3 = 0xa54ff53a,
        h4 = 0x510e527f, h5 = 0x9b05688c, h6 = 0x1f83d9ab, h7 = 0x5be0cd19;
    for (var b = 0; b < blocks; b++) {
      var w = shaW, t;
      for (t = 0; t < 16; t++) w[t] = words[b * 16 + t];
      for (t = 16; t < 64; t++) {
        var x = w[t - 15], y = w[t - 2];
        var s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
        var s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
        w[t] = (w[t - 16] + s0 + w[t - 7] + s1) | 0;
      }
      var a = h0, bb = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7;
      for (t = 0; t < 64; t++) {
        var S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
        var t1 = (h + S1 + ((e & f) ^ (~e & g)) + SHA_K[t] + w[t]) | 0;
        var S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
        var t2 = (S0 + ((a & bb) ^ (a & c) ^ (bb & c))) | 0;
        h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = bb; bb = a; a = (t1 + t2) | 0;
      }
      h0 = (h0 + a) | 0; h1 = (h1 + bb) | 0; h2 = (h2 + c) | 0; h3 = (h3 + d) | 0;
      h4 = (h4 + e) | 0; h5 = (h5 + f) | 0; h6 = (h6 + g) | 0; h7 = (h7 + h) | 0;
    }
    return h0 >>> 0;
  }

  // Counts nonces 0, 1, 2… until SHA-256(challenge ":" nonce) starts with `bits` zero bits
  // (at most 32), a slice at a time so the page stays responsive.
  function solve(challenge, bits, done) {
    var prefix = challenge + ':', nonce = 0;
    var limit = bits >= 32 ? 1 : Math.pow(2, 32 - bits);
    (function slice() {
      for (var end = nonce + 20000; nonce < end; nonce++) {
        if (sha256First32(prefix + nonce) < limit) return done(String(nonce));
      }
      setTimeout(slice, 0);
    })();
  }

  function hiddenField(form, name, value) {
    var input = form.querySelector('input[name="' + name + '"]');
    if (!input) {
      input = document.createElement('input');
      input.type = 'hidden';
      input.name = name;
      form.appendChild(input);
    }
    input.value = value;
  }

  function onSubmit(e) {
    var form = e.target;
    if (!root.getAttribute('data-wr-pow') || !form.getAttribute('action') ||
        !/\/join$/.test(form.getAttribute('action'))) return;
    e.preventDefault();
    var button = form.querySelector('button');
    if (button) { button.disabled = true; button.textContent = strings.pow_working || button.textContent; }
    fetch('/v1/rooms/' + encodeURIComponent(state.room) + '/challenge', {
      headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store'
    })
      .then(function (r) { if (!r.ok) throw new Error('challenge ' + r.status); return r.json(); })
      .then(function (c) {
        solve(c.challenge, c.difficulty_bits, function (nonce) {
          hiddenField(form, 'pow_challenge', c.challenge);
          hiddenField(form, 'pow_nonce', nonce);
          form.submit();  // a plain submit: no second submit event
        });
      })
      .catch(function () { form.submit(); });  // the server's page says what went wrong
  }
  root.addEventListener('submit', onSubmit);

  // Tabs of one browser share one place (the ticket cookie): a tab still showing "Join" moves
  // on when another tab joins.
  var channel = null;
  if (typeof BroadcastChannel === 'function') {
    channel = new BroadcastChannel('waitroom:' + root.dataset.wrRoom);
    channel.onmessage = function (e) {
      if (e.data && e.data.ticket && e.data.ticket !== state.ticket) swap();
    };
  }

  readState();
  bind();
  startTicketUpdates();
  if (channel && state.ticket) channel.postMessage({ ticket: state.ticket });
  roomTimer = setInterval(function () {
    if (document.visibilityState !== 'hidden') refreshRoom();
  }, ROOM_POLL_MS);
})();
