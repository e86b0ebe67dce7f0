// Waitroom's operator dashboard. Served from the binary with a CSP that forbids inline script;
// talks to /admin/v1 with the session cookie (sent by the browser) and the session's CSRF token
// (X-CSRF-Token, on every change). Draws its own charts as inline SVG.
'use strict';

(() => {
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  const refreshMs = Number(document.body.dataset.refreshMs) || 5000;
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const MODES = ['manual', 'rate', 'max_active', 'capacity'];
  const MODE_LABELS = { manual: 'Manual', rate: 'Steady rate', max_active: 'Max active sessions', capacity: 'Capacity' };
  // Which numbers each admission mode takes (docs/admission.md); the others are sent as null.
  const MODE_FIELDS = {
    manual: [],
    rate: ['rate_per_minute', 'max_active'],
    max_active: ['max_active'],
    capacity: ['total_active', 'new_per_minute'],
  };
  const NUMBER_FIELDS = [
    { key: 'rate_per_minute', label: 'Visitors per minute' },
    { key: 'max_active', label: 'Max active sessions' },
    { key: 'total_active', label: 'Total active (capacity)' },
    { key: 'new_per_minute', label: 'New per minute' },
  ];
  const CHARTS = [
    { key: 'waiting', title: 'Waiting in line', series: [{ get: (s) => s.waiting }] },
    { key: 'admissions', title: 'Admissions per minute', series: [{ get: (s) => s.admissions_per_minute }] },
    { key: 'sessions', title: 'Active sessions', series: [{ get: (s) => s.active_sessions }] },
    {
      key: 'eta',
      title: 'Estimated wait for a newcomer',
      duration: true,
      legend: 'Solid: median. Dashed: 90th percentile.',
      series: [
        { get: (s) => (s.eta ? s.eta.p50_s : null), name: 'median' },
        { get: (s) => (s.eta ? s.eta.p90_s : null), name: '90th percentile', dashed: true },
      ],
    },
  ];
  // The chart's drawing area, in SVG user units (the SVG scales to its box).
  const W = 480;
  const H = 170;
  const PAD = { left: 50, right: 12, top: 12, bottom: 28 };

  const notice = document.getElementById('notice');
  const updated = document.getElementById('updated');
  const overviewBody = document.querySelector('#overview tbody');
  const noRooms = document.getElementById('no-rooms');
  const roomList = document.getElementById('room-list');
  const cards = new Map(); // room name -> { section, parts… }
  let stopped = false;
  let timer = null;
  let running = null;

  // ---- talking to /admin/v1 -------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, detail) {
      super(detail);
      this.status = status;
    }
  }

  async function api(method, path, body) {
    const headers = { Accept: 'application/json' };
    const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
    if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken;
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const r = await fetch(path, init);
    const text = await r.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!r.ok) {
      if (r.status === 401) sessionEnded();
      throw new ApiError(r.status, (data && (data.detail || data.title)) || `the server answered ${r.status}`);
    }
    return data;
  }

  const roomPath = (name) => `/admin/v1/rooms/${encodeURIComponent(name)}`;

  function sessionEnded() {
    if (stopped) return;
    stopped = true;
    clearTimeout(timer);
    notice.textContent = 'Your session has ended. ';
    notice.append(el('a', { href: '/admin', text: 'Sign in again' }), '.');
    for (const c of document.querySelectorAll('#room-list button, #room-list input, #room-list select')) c.disabled = true;
  }

  // ---- small DOM helpers ------------------------------------------------------------------------

  function el(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === false || v === null || v === undefined) continue;
      if (k === 'text') e.textContent = v;
      else if (k === 'class') e.className = v;
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  }

  function svg(tag, attrs = {}, text) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function say(msgEl, text, isError) {
    msgEl.classList.toggle('error', Boolean(isError));
    msgEl.textContent = text;
  }

  // ---- formatting ---------------------------------------------------------------------------------

  const numberFormat = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });
  const fmtNumber = (v) => (v === null || v === undefined ? '–' : numberFormat.format(v));

  function fmtDuration(s) {
    if (s === null || s === undefined) return '–';
    if (s < 60) return `${Math.round(s)} s`;
    if (s < 3600) return `${Math.round(s / 60)} min`;
    const h = Math.floor(s / 3600);
    const m = Math.round((s % 3600) / 60);
    return m ? `${h} h ${m} min` : `${h} h`;
  }

  function fmtWindow(ms) {
    const s = Math.round(ms / 1000);
    if (s >= 3600 && s % 3600 === 0) return s === 3600 ? 'the last hour' : `the last ${s / 3600} hours`;
    if (s >= 120) return `the last ${Math.round(s / 60)} minutes`;
    return `the last ${s} seconds`;
  }

  function policyText(room) {
    const a = room.admission || { mode: room.mode };
    switch (a.mode) {
      case 'rate': {
        let t = `rate · ${fmtNumber(a.rate_per_minute)}/min`;
        if (a.max_active !== null && a.max_active !== undefined) t += `, at most ${fmtNumber(a.max_active)} active`;
        return t;
      }
      case 'max_active':
        return `max active · ${fmtNumber(a.max_active)}`;
      case 'capacity':
        return `capacity · ${fmtNumber(a.total_active)} total, ${fmtNumber(a.new_per_minute)} new/min`;
      default:
        return 'manual';
    }
  }

  // ---- charts ---------------------------------------------------------------------------------------

  // The smallest of 1, 2, 2.5, 5 × 10^k at or above v (at least 1), so the axis reads well.
  function niceCeil(v) {
    if (!(v > 0)) return 1;
    const p = 10 ** Math.floor(Math.log10(v));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  function drawChart(part, chart, samples, windowMs, nowMs) {
    const svgEl = part.svg;
    svgEl.replaceChildren();
    const x0 = PAD.left;
    const x1 = W - PAD.right;
    const y0 = H - PAD.bottom;
    const y1 = PAD.top;
    const from = nowMs - windowMs;
    const values = [];
    for (const series of chart.series) for (const s of samples) {
      const v = series.get(s);
      if (v !== null && v !== undefined) values.push(v);
    }
    const unitS = chart.duration && Math.max(0, ...values) >= 120 ? 60 : 1;
    const top = niceCeil(Math.max(0, ...values) / unitS) * unitS;
    const x = (t) => x0 + ((t - from) / windowMs) * (x1 - x0);
    const y = (v) => y0 - (v / top) * (y0 - y1);

    // Grid and y labels at 0, half and the top.
    for (const f of [0, 0.5, 1]) {
      const v = top * f;
      svgEl.append(svg('line', { class: f === 0 ? 'axis' : 'grid', x1: x0, x2: x1, y1: y(v), y2: y(v) }));
      const label = chart.duration ? (unitS === 60 ? `${numberFormat.format(v / 60)}m` : `${numberFormat.format(v)}s`) : numberFormat.format(v);
      svgEl.append(svg('text', { class: 'tick', x: x0 - 6, y: y(v) + 4, 'text-anchor': 'end' }, label));
    }
    // Time labels: the window's start, its middle and now.
    const minutes = windowMs >= 120000;
    const ago = (ms) => (minutes ? `−${Math.round(ms / 60000)} min` : `−${Math.round(ms / 1000)} s`);
    svgEl.append(svg('text', { class: 'tick', x: x0, y: H - 8, 'text-anchor': 'start' }, ago(windowMs)));
    svgEl.append(svg('text', { class: 'tick', x: (x0 + x1) / 2, y: H - 8, 'text-anchor': 'middle' }, ago(windowMs / 2)));
    svgEl.append(svg('text', { class: 'tick', x: x1, y: H - 8, 'text-anchor': 'end' }, 'now'));

    if (!values.length) {
      svgEl.append(svg('text', { class: 'empty', x: (x0 + x1) / 2, y: (y0 + y1) / 2, 'text-anchor': 'middle' }, 'No data yet'));
    }
    for (const series of chart.series) {
      let d = '';
      let pen = false;
      let points = 0;
      let last = null;
      for (const s of samples) {
        const v = series.get(s);
        if (s.at_ms < from || v === null || v === undefined) {
          pen = false;
          continue;
        }
        d += `${pen ? 'L' : 'M'}${x(s.at_ms).toFixed(1)} ${y(v).toFixed(1)}`;
        pen = true;
        points += 1;
        last = [x(s.at_ms), y(v)];
      }
      const cls = series.dashed ? 'series dashed' : 'series';
      if (d) svgEl.append(svg('path', { class: cls, d }));
      if (points === 1 && last) svgEl.append(svg('circle', { class: series.dashed ? 'dot dashed' : 'dot', cx: last[0], cy: last[1], r: 3 }));
    }

    // What a screen reader hears, and what the caption shows: the latest value and the peak.
    const latestOf = (series) => {
      for (let i = samples.length - 1; i >= 0; i -= 1) {
        const v = series.get(samples[i]);
        if (v !== null && v !== undefined) return v;
      }
      return null;
    };
    const fmt = chart.duration ? fmtDuration : fmtNumber;
    const latest = chart.series.map(latestOf);
    const peak = values.length ? Math.max(...values) : null;
    let summary;
    if (!values.length) {
      summary = `${chart.title} over ${fmtWindow(windowMs)}: no data yet`;
    } else if (chart.series.length > 1) {
      const parts = chart.series.map((s, i) => `${s.name} ${fmt(latest[i])}`);
      summary = `${chart.title} over ${fmtWindow(windowMs)}: now ${parts.join(', ')}; highest ${fmt(peak)}`;
    } else {
      summary = `${chart.title} over ${fmtWindow(windowMs)}: now ${fmt(latest[0])}; highest ${fmt(peak)}`;
    }
    svgEl.setAttribute('aria-label', summary);
    svgEl.dataset.latest = latest[0] === null ? '' : String(latest[0]);
    svgEl.dataset.points = String(samples.length);
    part.latest.textContent = chart.series.length > 1 ? latest.map(fmt).join(' / ') : fmt(latest[0]);
  }

  // ---- one room's card ---------------------------------------------------------------------------

  function numberInput(id, attrs) {
    return el('input', { id, type: 'number', inputmode: 'numeric', min: 0, step: 1, ...attrs });
  }

  function buildCard(name) {
    const id = `room-${name}`;
    const c = { name, policyDirty: false, charts: {} };
    c.title = el('h2', { id: `${id}-title` }, el('span', { class: 'visually-hidden', text: 'Room ' }), name);
    c.badge = el('span', { class: 'badge' });
    const fact = (label) => {
      const dd = el('dd', { 'data-fact': label.toLowerCase().replace(/ /g, '-') });
      return [el('div', {}, el('dt', { text: label }), dd), dd];
    };
    const [fStatus, ddStatus] = fact('Status');
    const [fServing, ddServing] = fact('Serving');
    const [fWaiting, ddWaiting] = fact('Waiting');
    const [fQueue, ddQueue] = fact('Queue length');
    const [fActive, ddActive] = fact('Active sessions');
    const [fPolicy, ddPolicy] = fact('Policy');
    c.facts = { status: ddStatus, serving: ddServing, waiting: ddWaiting, queue: ddQueue, active: ddActive, policy: ddPolicy };

    // Charts: an SVG each, labelled by its latest numbers.
    const charts = el('div', { class: 'charts' });
    for (const chart of CHARTS) {
      const latest = el('span', { class: 'latest', text: '–' });
      const svgEl = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `${chart.title}: loading`, 'data-chart': chart.key });
      const fig = el('figure', { class: 'chart' }, el('figcaption', {}, el('span', { text: chart.title }), latest), svgEl);
      if (chart.legend) fig.append(el('p', { class: 'legend', text: chart.legend }));
      charts.append(fig);
      c.charts[chart.key] = { svg: svgEl, latest };
    }

    // The latest numbers for screen readers, in one table.
    const rows = [
      ['Waiting in line', 'waiting'],
      ['Queue length', 'queue'],
      ['Serving', 'serving'],
      ['Admissions per minute', 'admissions'],
      ['Active sessions', 'active'],
      ['Estimated wait (median)', 'eta50'],
      ['Estimated wait (90th percentile)', 'eta90'],
    ];
    c.cells = {};
    const tbody = el('tbody');
    for (const [label, key] of rows) {
      const td = el('td', { text: '–' });
      c.cells[key] = td;
      tbody.append(el('tr', {}, el('th', { scope: 'row', text: label }), td));
    }
    const table = el('table', { class: 'visually-hidden' }, el('caption', { text: `Latest numbers for room ${name}` }), tbody);

    // Advance by N.
    const advId = `${id}-advance-by`;
    c.advanceInput = numberInput(advId, { min: 1, max: 1000000, value: 1, required: true });
    c.advanceMsg = el('p', { class: 'msg', 'aria-live': 'polite' });
    const advanceForm = el('form', { class: 'control', 'aria-labelledby': `${id}-advance-title` },
      el('h3', { id: `${id}-advance-title`, text: 'Advance' }),
      el('div', { class: 'row' },
        el('div', { class: 'field' }, el('label', { for: advId, text: 'Let in the next' }), c.advanceInput),
        el('button', { type: 'submit', text: 'Advance' })),
      c.advanceMsg);
    advanceForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      advance(c);
    });

    // Pause / resume: one button at a time, the one that applies.
    c.pauseButton = el('button', { type: 'button', class: 'secondary', text: 'Pause admissions' });
    c.resumeButton = el('button', { type: 'button', text: 'Resume admissions', hidden: true });
    c.pauseMsg = el('p', { class: 'msg', 'aria-live': 'polite' });
    c.pauseButton.addEventListener('click', () => setPaused(c, true));
    c.resumeButton.addEventListener('click', () => setPaused(c, false));
    const pauseBox = el('div', { class: 'control', role: 'group', 'aria-labelledby': `${id}-pause-title` },
      el('h3', { id: `${id}-pause-title`, text: 'Admissions' }),
      el('div', { class: 'row' }, c.pauseButton, c.resumeButton), c.pauseMsg);

    // Admission policy.
    const modeId = `${id}-mode`;
    c.modeSelect = el('select', { id: modeId });
    for (const m of MODES) c.modeSelect.append(el('option', { value: m, text: MODE_LABELS[m] }));
    c.fields = {};
    const fieldBox = el('div', { class: 'fields' });
    for (const f of NUMBER_FIELDS) {
      const fid = `${id}-${f.key}`;
      const input = numberInput(fid, { min: 1 });
      const wrap = el('div', { class: 'field' }, el('label', { for: fid, text: f.label }), input);
      c.fields[f.key] = { input, wrap };
      fieldBox.append(wrap);
    }
    c.policyMsg = el('p', { class: 'msg', 'aria-live': 'polite' });
    const policyForm = el('form', { class: 'control' },
      el('fieldset', { class: 'plain' },
        el('legend', { text: 'Admission policy' }),
        el('div', { class: 'fields' }, el('div', { class: 'field' }, el('label', { for: modeId, text: 'Mode' }), c.modeSelect)),
        fieldBox,
        el('button', { type: 'submit', text: 'Apply policy' })),
      c.policyMsg);
    c.modeSelect.addEventListener('change', () => showModeFields(c));
    policyForm.addEventListener('input', () => { c.policyDirty = true; });
    policyForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      applyPolicy(c);
    });

    // Reset, behind a dialog that asks for the room's name.
    c.resetButton = el('button', { type: 'button', class: 'danger secondary', text: 'Reset room…', 'aria-haspopup': 'dialog' });
    c.resetMsg = el('p', { class: 'msg', 'aria-live': 'polite' });
    const confirmId = `${id}-reset-confirm`;
    c.resetInput = el('input', { id: confirmId, type: 'text', autocomplete: 'off', spellcheck: 'false' });
    c.resetDialogMsg = el('p', { class: 'msg', 'aria-live': 'assertive', id: `${id}-reset-msg` });
    const cancel = el('button', { type: 'button', class: 'secondary', text: 'Cancel' });
    c.dialog = el('dialog', { 'aria-labelledby': `${id}-reset-title`, 'aria-describedby': `${id}-reset-desc` },
      el('form', {},
        el('h3', { id: `${id}-reset-title`, text: `Reset room ${name}?` }),
        el('p', { id: `${id}-reset-desc`, text: 'Everyone in line loses their place, the serving counter goes back to 0 and every pass of this room stops working. This cannot be undone.' }),
        el('label', { for: confirmId }, 'Type ', el('strong', { text: name }), ' to confirm'),
        c.resetInput,
        c.resetDialogMsg,
        el('div', { class: 'buttons' }, el('button', { type: 'submit', class: 'danger', text: 'Reset room' }), cancel)));
    c.resetButton.addEventListener('click', () => {
      c.resetInput.value = '';
      say(c.resetDialogMsg, '');
      c.dialog.showModal();
      c.resetInput.focus();
    });
    cancel.addEventListener('click', () => {
      c.dialog.close();
      say(c.resetMsg, 'Reset cancelled; nothing changed.');
    });
    c.dialog.addEventListener('close', () => c.resetButton.focus());
    c.dialog.querySelector('form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      resetRoom(c);
    });
    const resetBox = el('div', { class: 'control', role: 'group', 'aria-labelledby': `${id}-resetbox-title` },
      el('h3', { id: `${id}-resetbox-title`, text: 'Reset' }), c.resetButton, c.resetMsg, c.dialog);

    c.section = el('section', { class: 'room card', id, 'aria-labelledby': `${id}-title`, 'data-room': name },
      el('div', { class: 'room-head' }, c.title, c.badge),
      el('dl', { class: 'facts' }, fStatus, fServing, fWaiting, fQueue, fActive, fPolicy),
      charts, table,
      el('div', { class: 'controls' }, advanceForm, pauseBox, policyForm, resetBox));

    c.row = el('tr', { 'data-room': name });
    c.rowCells = {};
    const link = el('a', { href: `#${id}`, text: name });
    c.row.append(el('th', { scope: 'row' }, link));
    for (const key of ['status', 'serving', 'waiting', 'active', 'policy']) {
      const td = el('td', { class: key === 'status' || key === 'policy' ? '' : 'num' });
      c.rowCells[key] = td;
      c.row.append(td);
    }
    return c;
  }

  function showModeFields(c) {
    const wanted = MODE_FIELDS[c.modeSelect.value] || [];
    for (const [key, f] of Object.entries(c.fields)) f.wrap.hidden = !wanted.includes(key);
  }

  function fillPolicy(c, room) {
    const a = room.admission || { mode: room.mode };
    c.modeSelect.value = MODES.includes(a.mode) ? a.mode : 'manual';
    for (const [key, f] of Object.entries(c.fields)) f.input.value = a[key] === null || a[key] === undefined ? '' : a[key];
    showModeFields(c);
  }

  function updateCard(c, room) {
    c.room = room;
    const paused = room.status === 'paused';
    c.badge.textContent = room.status;
    c.badge.className = `badge ${room.status}`;
    c.facts.status.textContent = room.status;
    c.facts.serving.textContent = fmtNumber(room.serving);
    c.facts.waiting.textContent = fmtNumber(room.waiting);
    c.facts.queue.textContent = fmtNumber(room.queue_length);
    c.facts.active.textContent = fmtNumber(room.active_sessions);
    c.facts.policy.textContent = policyText(room);
    c.cells.waiting.textContent = fmtNumber(room.waiting);
    c.cells.queue.textContent = fmtNumber(room.queue_length);
    c.cells.serving.textContent = fmtNumber(room.serving);
    c.cells.active.textContent = fmtNumber(room.active_sessions);
    c.cells.eta50.textContent = room.eta ? fmtDuration(room.eta.p50_s) : '–';
    c.cells.eta90.textContent = room.eta ? fmtDuration(room.eta.p90_s) : '–';
    c.rowCells.status.textContent = room.status;
    c.rowCells.serving.textContent = fmtNumber(room.serving);
    c.rowCells.waiting.textContent = fmtNumber(room.waiting);
    c.rowCells.active.textContent = fmtNumber(room.active_sessions);
    c.rowCells.policy.textContent = policyText(room);
    // Keep focus on the pair of buttons when the one pressed goes away.
    const hadFocus = document.activeElement === c.pauseButton || document.activeElement === c.resumeButton;
    c.pauseButton.hidden = paused;
    c.resumeButton.hidden = !paused;
    if (hadFocus) (paused ? c.resumeButton : c.pauseButton).focus();
    if (!c.policyDirty) fillPolicy(c, room);
  }

  function drawCharts(c, history) {
    const samples = history.samples || [];
    for (const chart of CHARTS) drawChart(c.charts[chart.key], chart, samples, history.window_ms, history.now_ms);
    const last = samples.length ? samples[samples.length - 1] : null;
    c.cells.admissions.textContent = last ? fmtNumber(last.admissions_per_minute) : '–';
  }

  // ---- controls ------------------------------------------------------------------------------------

  async function act(c, msgEl, work) {
    say(msgEl, 'Working…');
    try {
      const text = await work();
      say(msgEl, text);
      refreshNow();
      return true;
    } catch (e) {
      say(msgEl, `Not done: ${e.message}`, true);
      return false;
    }
  }

  function advance(c) {
    const by = Number(c.advanceInput.value);
    if (!Number.isInteger(by) || by < 1) {
      say(c.advanceMsg, 'Not done: enter a whole number of at least 1.', true);
      c.advanceInput.focus();
      return;
    }
    act(c, c.advanceMsg, async () => {
      const r = await api('POST', `${roomPath(c.name)}/advance`, { by });
      return `Advanced by ${by}: serving is now ${fmtNumber(r.serving)}.`;
    });
  }

  function setPaused(c, paused) {
    act(c, c.pauseMsg, async () => {
      const room = await api('POST', `${roomPath(c.name)}/${paused ? 'pause' : 'resume'}`);
      updateCard(c, room);
      return paused ? 'Paused: nobody is let in until you resume.' : 'Resumed: admissions run again.';
    });
  }

  async function applyPolicy(c) {
    const mode = c.modeSelect.value;
    const admission = { mode };
    for (const f of NUMBER_FIELDS) {
      const raw = c.fields[f.key].input.value.trim();
      if (!MODE_FIELDS[mode].includes(f.key) || raw === '') {
        admission[f.key] = null;
        continue;
      }
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 0) {
        say(c.policyMsg, `Not done: ${f.label} must be a whole number.`, true);
        c.fields[f.key].input.focus();
        return;
      }
      admission[f.key] = n;
    }
    const ok = await act(c, c.policyMsg, async () => {
      const room = await api('PUT', roomPath(c.name), { admission });
      c.policyDirty = false;
      updateCard(c, room);
      return `Policy applied: ${policyText(room)}.`;
    });
    if (!ok) c.policyDirty = true;
  }

  async function resetRoom(c) {
    if (c.resetInput.value.trim() !== c.name) {
      say(c.resetDialogMsg, `Type ${c.name} exactly to confirm the reset.`, true);
      c.resetInput.focus();
      return;
    }
    try {
      const r = await api('POST', `${roomPath(c.name)}/reset`);
      c.dialog.close();
      say(c.resetMsg, `Room reset: the line is empty (epoch ${r.epoch}).`);
      refreshNow();
    } catch (e) {
      say(c.resetDialogMsg, `Not done: ${e.message}`, true);
    }
  }

  // ---- the refresh loop -----------------------------------------------------------------------------

  function renderRooms(rooms) {
    const names = new Set(rooms.map((r) => r.room));
    for (const [name, c] of cards) {
      if (names.has(name)) continue;
      c.section.remove();
      c.row.remove();
      cards.delete(name);
    }
    for (const room of rooms) {
      let c = cards.get(room.room);
      if (!c) {
        c = buildCard(room.room);
        cards.set(room.room, c);
      }
      // Keep the page in the API's order without moving elements that are already in place
      // (moving one would take the focus out of it).
      if (c.section.parentNode !== roomList) roomList.append(c.section);
      if (c.row.parentNode !== overviewBody) overviewBody.append(c.row);
      updateCard(c, room);
    }
    noRooms.hidden = rooms.length > 0;
  }

  async function refresh() {
    try {
      const { rooms } = await api('GET', '/admin/v1/rooms');
      renderRooms(rooms);
      await Promise.all(rooms.map(async (room) => {
        const history = await api('GET', `${roomPath(room.room)}/history`);
        const c = cards.get(room.room);
        if (c) drawCharts(c, history);
      }));
      updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
      if (!stopped && notice.dataset.kind === 'error') {
        notice.textContent = '';
        delete notice.dataset.kind;
      }
    } catch (e) {
      if (stopped) return;
      notice.textContent = `Could not refresh: ${e.message}`;
      notice.dataset.kind = 'error';
    }
  }

  function schedule() {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(refreshNow, refreshMs);
  }

  // One refresh at a time; asking during one runs another right after it.
  function refreshNow() {
    if (stopped) return running;
    if (running) {
      running.again = true;
      return running;
    }
    clearTimeout(timer);
    const p = refresh().finally(() => {
      running = null;
      if (p.again) refreshNow();
      else schedule();
    });
    running = p;
    return p;
  }

  refreshNow();
})();
