// Waitroom's operator dashboard. Served from the binary with a CSP that forbids inline script;
// talks to /admin/v1 with the session cookie (sent by the browser) and the session's CSRF token
// (X-CSRF-Token, on every change). Draws its own charts as inline SVG.
//
// Every word it shows comes from the page's language: the server puts that language's
// "dashboard.*" strings (English where a language lacks one) in <body data-strings> as JSON, and
// numbers and times are formatted with Intl in <body data-lang>.
'use strict';

(() => {
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  const refreshMs = Number(document.body.dataset.refreshMs) || 5000;
  const lang = document.body.dataset.lang || 'en';
  const signInUrl = document.body.dataset.signInUrl || '/admin';
  const STRINGS = (() => {
    try {
      return JSON.parse(document.body.dataset.strings || '{}');
    } catch {
      return {};
    }
  })();
  const pluralRules = new Intl.PluralRules(lang);
  const numberFormat = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
  const percentFormat = new Intl.NumberFormat(lang, { style: 'percent', maximumFractionDigits: 2 });

  // The string `key` with each {name} replaced by values[name] (as the server's catalogs do).
  function t(key, values = {}) {
    const text = STRINGS[key] ?? key;
    return text.replace(/\{([a-z0-9_]+)\}/g, (m, name) => (name in values ? String(values[name]) : m));
  }
  // `key_one` or `key_other` by the language's plural rule for n.
  function tp(key, n, values = {}) {
    const specific = `${key}_${pluralRules.select(n)}`;
    return t(specific in STRINGS ? specific : `${key}_other`, { n: fmtNumber(n), ...values });
  }

  const SVG_NS = 'http://www.w3.org/2000/svg';
  const MODES = ['manual', 'rate', 'max_active', 'capacity', 'adaptive'];
  const MODE_LABELS = {
    manual: t('mode_manual'), rate: t('mode_rate'), max_active: t('mode_max_active'), capacity: t('mode_capacity'), adaptive: t('mode_adaptive'),
  };
  // A scheduled event's override takes the modes whose numbers its form has (adaptive needs its
  // target and ceiling, which that form does not ask for).
  const EVENT_MODES = MODES.filter((m) => m !== 'adaptive');
  // Which numbers each admission mode takes (docs/admission.md); the others are sent as null.
  const MODE_FIELDS = {
    manual: [],
    rate: ['rate_per_minute', 'max_active'],
    max_active: ['max_active'],
    capacity: ['total_active', 'new_per_minute'],
    adaptive: ['target_p95_ms', 'max_per_minute', 'min_per_minute', 'max_error_ratio', 'max_active'],
  };
  // `least`: the smallest value the API takes; `ratio`: a share above 0, at most 1, not a whole number.
  const NUMBER_FIELDS = [
    { key: 'rate_per_minute', label: t('field_rate_per_minute') },
    { key: 'target_p95_ms', label: t('field_target_p95_ms') },
    { key: 'max_per_minute', label: t('field_max_per_minute') },
    { key: 'min_per_minute', label: t('field_min_per_minute'), least: 0 },
    { key: 'max_error_ratio', label: t('field_max_error_ratio'), ratio: true },
    { key: 'max_active', label: t('field_max_active') },
    { key: 'total_active', label: t('field_total_active') },
    { key: 'new_per_minute', label: t('field_new_per_minute') },
  ];
  const CHARTS = [
    { key: 'waiting', title: t('chart_waiting'), series: [{ get: (s) => s.waiting }] },
    { key: 'admissions', title: t('chart_admissions'), series: [{ get: (s) => s.admissions_per_minute }] },
    { key: 'sessions', title: t('chart_sessions'), series: [{ get: (s) => s.active_sessions }] },
    {
      // The estimate for a newcomer beside what the visitors let in actually waited: the
      // estimate is worth trusting when the two lines agree.
      key: 'eta',
      title: t('ops.chart_wait'),
      duration: true,
      legend: t('ops.chart_wait_legend'),
      series: [
        { get: (s) => (s.eta ? s.eta.p50_s : null), name: t('ops.series_estimate_p50') },
        { get: (s) => (s.eta ? s.eta.p90_s : null), name: t('ops.series_estimate_p90'), style: 'dashed' },
        { get: (s) => s.waited_p50_s, name: t('ops.series_waited_p50'), style: 'dotted' },
        { get: (s) => s.waited_p95_s, name: t('ops.series_waited_p95'), style: 'dashdot' },
      ],
    },
  ];
  // The charts' ranges: the last hour is the 10-second samples, read at every refresh; longer
  // ones are the minutes the server keeps (docs/dashboard.md), summed over a step that gives a
  // few hundred points, and read again once a minute at most.
  const HOUR_MS = 3600000;
  const DAY_MS = 24 * HOUR_MS;
  const RANGES = {
    '1h': null,
    '24h': { ms: DAY_MS, stepS: 300 },
    '7d': { ms: 7 * DAY_MS, stepS: 1800 },
  };
  const MINUTES_REFRESH_MS = 60000;
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
  const rangeInputs = [...document.querySelectorAll('#range input[name="range"]')];
  // A reload may bring back the choice the browser kept in the form.
  let range = (rangeInputs.find((i) => i.checked) || { value: '1h' }).value;
  // The server's clock less the browser's (the test clock may stand elsewhere).
  let serverOffsetMs = 0;

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
      throw new ApiError(r.status, (data && (data.detail || data.title)) || t('server_answered', { status: r.status }));
    }
    return data;
  }

  const roomPath = (name) => `/admin/v1/rooms/${encodeURIComponent(name)}`;

  function sessionEnded() {
    if (stopped) return;
    stopped = true;
    clearTimeout(timer);
    notice.textContent = `${t('session_ended')} `;
    notice.append(el('a', { href: signInUrl, text: t('sign_in_again') }));
    for (const c of document.querySelectorAll('main button, main input, main select, main textarea')) c.disabled = true;
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

  function fmtNumber(v) {
    return v === null || v === undefined ? '–' : numberFormat.format(v);
  }

  function fmtPercent(v) {
    return v === null || v === undefined ? '–' : percentFormat.format(v);
  }

  function fmtDuration(s) {
    if (s === null || s === undefined) return '–';
    if (s < 60) return t('duration_seconds', { n: fmtNumber(Math.round(s)) });
    if (s < 3600) return t('duration_minutes', { n: fmtNumber(Math.round(s / 60)) });
    const h = fmtNumber(Math.floor(s / 3600));
    const m = Math.round((s % 3600) / 60);
    return m ? t('duration_hours_minutes', { h, m: fmtNumber(m) }) : t('duration_hours', { h });
  }

  function fmtWindow(ms) {
    // A range's window runs from the page's clock to the server's answer, a request's latency
    // apart: from two minutes up it is named in whole minutes, so 24 hours stays "24 hours".
    let s = Math.round(ms / 1000);
    if (s >= 120) s = Math.round(s / 60) * 60;
    if (s >= 2 * 86400 && s % 86400 === 0) return tp('window_days', s / 86400);
    if (s >= 3600 && s % 3600 === 0) return tp('window_hours', s / 3600);
    if (s >= 120) return t('window_minutes', { n: fmtNumber(Math.round(s / 60)) });
    return tp('window_seconds', s);
  }

  const statusText = (status) => (`status_${status}` in STRINGS ? t(`status_${status}`) : status);

  function policyText(room) {
    const a = room.admission || { mode: room.mode };
    switch (a.mode) {
      case 'rate':
        if (a.max_active !== null && a.max_active !== undefined) {
          return t('policy_rate_max', { rate: fmtNumber(a.rate_per_minute), max: fmtNumber(a.max_active) });
        }
        return t('policy_rate', { rate: fmtNumber(a.rate_per_minute) });
      case 'max_active':
        return t('policy_max_active', { max: fmtNumber(a.max_active) });
      case 'capacity':
        return t('policy_capacity', { total: fmtNumber(a.total_active), new: fmtNumber(a.new_per_minute) });
      case 'adaptive':
        if (a.max_active !== null && a.max_active !== undefined) {
          return t('policy_adaptive_max', { target: fmtNumber(a.target_p95_ms), rate: fmtNumber(a.max_per_minute), max: fmtNumber(a.max_active) });
        }
        return t('policy_adaptive', { target: fmtNumber(a.target_p95_ms), rate: fmtNumber(a.max_per_minute) });
      default:
        return t('policy_manual');
    }
  }

  // The nodes of a string that holds {room}: the room's name as `nameNode(name)`, the words
  // around it as text (wherever the language puts them).
  function withRoom(text, name, nameNode = (n) => n) {
    const at = text.indexOf('{room}');
    if (at < 0) return [text];
    return [text.slice(0, at), nameNode(name), text.slice(at + '{room}'.length)].filter((p) => p !== '');
  }

  // ---- charts ---------------------------------------------------------------------------------------

  // The smallest of 1, 2, 2.5, 5 × 10^k at or above v (at least 1), so the axis reads well.
  function niceCeil(v) {
    if (!(v > 0)) return 1;
    const p = 10 ** Math.floor(Math.log10(v));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  // Why a room has no estimate now (docs/admission.md, Estimates), or null when it has one.
  function etaReason(room) {
    if (!room || room.eta) return null;
    if (room.status === 'paused') return t('eta_reason_paused');
    if (!room.waiting) return t('eta_reason_nobody');
    const a = room.admission || { mode: room.mode };
    if (a.mode === 'manual') return t('eta_reason_manual');
    const cap = a.max_active ?? a.total_active;
    if (cap && room.active_sessions >= cap) return t('eta_reason_full', { n: fmtNumber(cap) });
    return t('eta_reason_still');
  }

  function drawChart(part, chart, samples, windowMs, nowMs, why = null) {
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
      const label = chart.duration
        ? (unitS === 60 ? t('tick_minutes', { n: fmtNumber(v / 60) }) : t('tick_seconds', { n: fmtNumber(v) }))
        : fmtNumber(v);
      svgEl.append(svg('text', { class: 'tick', x: x0 - 6, y: y(v) + 4, 'text-anchor': 'end' }, label));
    }
    // Time labels: the window's start, its middle and now.
    const ago = (ms) => {
      if (windowMs >= 2 * DAY_MS) return t('tick_ago_days', { n: fmtNumber(ms / DAY_MS) });
      if (windowMs >= 2 * HOUR_MS) return t('tick_ago_hours', { n: fmtNumber(ms / HOUR_MS) });
      if (windowMs >= 120000) return t('tick_ago_minutes', { n: fmtNumber(Math.round(ms / 60000)) });
      return t('tick_ago_seconds', { n: fmtNumber(Math.round(ms / 1000)) });
    };
    svgEl.append(svg('text', { class: 'tick', x: x0, y: H - 8, 'text-anchor': 'start' }, ago(windowMs)));
    svgEl.append(svg('text', { class: 'tick', x: (x0 + x1) / 2, y: H - 8, 'text-anchor': 'middle' }, ago(windowMs / 2)));
    svgEl.append(svg('text', { class: 'tick', x: x1, y: H - 8, 'text-anchor': 'end' }, t('tick_now')));

    if (!values.length) {
      svgEl.append(svg('text', { class: 'empty', x: (x0 + x1) / 2, y: (y0 + y1) / 2, 'text-anchor': 'middle' }, t('no_data')));
    }
    part.why.textContent = why || '';
    part.why.hidden = !why;
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
      // Series differ by their dashes as well as their colour (and the legend says which is which).
      const style = series.style || '';
      if (d) svgEl.append(svg('path', { class: `series ${style}`.trim(), d }));
      if (points === 1 && last) svgEl.append(svg('circle', { class: `dot ${style}`.trim(), cx: last[0], cy: last[1], r: 3 }));
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
    const span = fmtWindow(windowMs);
    let summary;
    if (!values.length) {
      summary = t('chart_empty', { title: chart.title, window: span });
    } else {
      const now = chart.series.length > 1
        ? chart.series.map((s, i) => t('series_value', { name: s.name, value: fmt(latest[i]) })).join(t('list_separator'))
        : fmt(latest[0]);
      summary = t('chart_summary', { title: chart.title, window: span, now, peak: fmt(peak) });
    }
    svgEl.setAttribute('aria-label', why ? `${summary}. ${why}` : summary);
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
    // "Room sale": only the name shows; the words around it are for screen readers.
    const hidden = (text) => el('span', { class: 'visually-hidden', text });
    c.title = el('h2', { id: `${id}-title` },
      ...withRoom(t('room_heading'), name, (n) => document.createTextNode(n)).map((p) => (typeof p === 'string' ? hidden(p) : p)));
    c.badge = el('span', { class: 'badge' });
    // data-fact names the fact in English whatever the language (for scripts and tests).
    const fact = (key, label) => {
      const dd = el('dd', { 'data-fact': key });
      return [el('div', {}, el('dt', { text: label }), dd), dd];
    };
    const [fStatus, ddStatus] = fact('status', t('fact_status'));
    const [fServing, ddServing] = fact('serving', t('fact_serving'));
    const [fWaiting, ddWaiting] = fact('waiting', t('fact_waiting'));
    const [fQueue, ddQueue] = fact('queue-length', t('fact_queue'));
    const [fActive, ddActive] = fact('active-sessions', t('fact_active'));
    const [fPolicy, ddPolicy] = fact('policy', t('fact_policy'));
    c.facts = { status: ddStatus, serving: ddServing, waiting: ddWaiting, queue: ddQueue, active: ddActive, policy: ddPolicy };

    // Charts: an SVG each, labelled by its latest numbers.
    const charts = el('div', { class: 'charts' });
    for (const chart of CHARTS) {
      const latest = el('span', { class: 'latest', text: '–' });
      const svgEl = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': t('chart_loading', { title: chart.title }), 'data-chart': chart.key });
      const fig = el('figure', { class: 'chart' }, el('figcaption', {}, el('span', { text: chart.title }), latest), svgEl);
      if (chart.legend) fig.append(el('p', { class: 'legend', text: chart.legend }));
      const why = el('p', { class: 'why muted', 'data-why': chart.key, hidden: true });
      fig.append(why);
      charts.append(fig);
      c.charts[chart.key] = { svg: svgEl, latest, why };
    }
    const ops = buildOps(c, id, name, charts);

    // The latest numbers for screen readers, in one table.
    const rows = [
      [t('chart_waiting'), 'waiting'],
      [t('fact_queue'), 'queue'],
      [t('fact_serving'), 'serving'],
      [t('chart_admissions'), 'admissions'],
      [t('fact_active'), 'active'],
      [t('row_eta_median'), 'eta50'],
      [t('row_eta_p90'), 'eta90'],
    ];
    c.cells = {};
    const tbody = el('tbody');
    for (const [label, key] of rows) {
      const td = el('td', { text: '–' });
      c.cells[key] = td;
      tbody.append(el('tr', {}, el('th', { scope: 'row', text: label }), td));
    }
    for (const [label, key] of ops.rows) {
      const td = el('td', { text: '–' });
      c.cells[key] = td;
      tbody.append(el('tr', {}, el('th', { scope: 'row', text: label }), td));
    }
    // Hidden by its wrapper: a table grows to its content whatever width it is given.
    const table = el('div', { class: 'visually-hidden' },
      el('table', {}, el('caption', { text: t('latest_caption', { room: name }) }), tbody));

    // Advance by N.
    const advId = `${id}-advance-by`;
    c.advanceInput = numberInput(advId, { min: 1, max: 1000000, value: 1, required: true });
    c.advanceMsg = el('p', { class: 'msg', 'aria-live': 'polite' });
    // Named with the room too: with several rooms, landmarks of one kind need different names.
    const advanceForm = el('form', { class: 'control', 'aria-labelledby': `${id}-advance-title ${id}-title` },
      el('h3', { id: `${id}-advance-title`, text: t('advance_title') }),
      el('div', { class: 'row' },
        el('div', { class: 'field' }, el('label', { for: advId, text: t('advance_label') }), c.advanceInput),
        el('button', { type: 'submit', text: t('advance_button') })),
      c.advanceMsg);
    advanceForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      advance(c);
    });

    // Pause / resume: one button at a time, the one that applies.
    c.pauseButton = el('button', { type: 'button', class: 'secondary', text: t('pause_button') });
    c.resumeButton = el('button', { type: 'button', text: t('resume_button'), hidden: true });
    c.pauseMsg = el('p', { class: 'msg', 'aria-live': 'polite' });
    c.pauseButton.addEventListener('click', () => setPaused(c, true));
    c.resumeButton.addEventListener('click', () => setPaused(c, false));
    const pauseBox = el('div', { class: 'control', role: 'group', 'aria-labelledby': `${id}-pause-title` },
      el('h3', { id: `${id}-pause-title`, text: t('admissions_title') }),
      el('div', { class: 'row' }, c.pauseButton, c.resumeButton), c.pauseMsg);

    // Admission policy.
    const modeId = `${id}-mode`;
    c.modeSelect = el('select', { id: modeId });
    for (const m of MODES) c.modeSelect.append(el('option', { value: m, text: MODE_LABELS[m] }));
    c.fields = {};
    const fieldBox = el('div', { class: 'fields' });
    for (const f of NUMBER_FIELDS) {
      const fid = `${id}-${f.key}`;
      const input = f.ratio
        ? numberInput(fid, { min: 0, max: 1, step: 'any', inputmode: 'decimal' })
        : numberInput(fid, { min: f.least ?? 1 });
      const wrap = el('div', { class: 'field' }, el('label', { for: fid, text: f.label }), input);
      c.fields[f.key] = { input, wrap };
      fieldBox.append(wrap);
    }
    c.policyMsg = el('p', { class: 'msg', 'aria-live': 'polite' });
    // novalidate: the script checks the numbers and says what is wrong in the live region.
    const policyForm = el('form', { class: 'control', novalidate: true },
      el('fieldset', { class: 'plain' },
        el('legend', { text: t('policy_legend') }),
        el('div', { class: 'fields' }, el('div', { class: 'field' }, el('label', { for: modeId, text: t('mode_label') }), c.modeSelect)),
        fieldBox,
        el('button', { type: 'submit', text: t('apply_policy') })),
      c.policyMsg);
    c.modeSelect.addEventListener('change', () => showModeFields(c));
    policyForm.addEventListener('input', () => { c.policyDirty = true; });
    policyForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      applyPolicy(c);
    });

    // Reset, behind a dialog that asks for the room's name.
    c.resetButton = el('button', { type: 'button', class: 'danger secondary', text: t('reset_open'), 'aria-haspopup': 'dialog' });
    c.resetMsg = el('p', { class: 'msg', 'aria-live': 'polite' });
    const confirmId = `${id}-reset-confirm`;
    c.resetInput = el('input', { id: confirmId, type: 'text', autocomplete: 'off', spellcheck: 'false' });
    c.resetDialogMsg = el('p', { class: 'msg', 'aria-live': 'assertive', id: `${id}-reset-msg` });
    const cancel = el('button', { type: 'button', class: 'secondary', text: t('cancel') });
    c.dialog = el('dialog', { 'aria-labelledby': `${id}-reset-title`, 'aria-describedby': `${id}-reset-desc` },
      el('form', {},
        el('h3', { id: `${id}-reset-title`, text: t('reset_dialog_title', { room: name }) }),
        el('p', { id: `${id}-reset-desc`, text: t('reset_dialog_text') }),
        el('label', { for: confirmId }, ...withRoom(t('reset_confirm_label'), name, (n) => el('strong', { text: n }))),
        c.resetInput,
        c.resetDialogMsg,
        el('div', { class: 'buttons' }, el('button', { type: 'submit', class: 'danger', text: t('reset_button') }), cancel)));
    c.resetButton.addEventListener('click', () => {
      c.resetInput.value = '';
      say(c.resetDialogMsg, '');
      c.dialog.showModal();
      c.resetInput.focus();
    });
    cancel.addEventListener('click', () => {
      c.dialog.close();
      say(c.resetMsg, t('reset_cancelled'));
    });
    c.dialog.addEventListener('close', () => c.resetButton.focus());
    c.dialog.querySelector('form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      resetRoom(c);
    });
    const resetBox = el('div', { class: 'control', role: 'group', 'aria-labelledby': `${id}-resetbox-title` },
      el('h3', { id: `${id}-resetbox-title`, text: t('reset_title') }), c.resetButton, c.resetMsg, c.dialog);

    c.section = el('section', { class: 'room card', id, 'aria-labelledby': `${id}-title`, 'data-room': name },
      el('div', { class: 'room-head' }, c.title, c.badge),
      el('dl', { class: 'facts' }, fStatus, fServing, fWaiting, fQueue, fActive, fPolicy),
      ops.lineBox,
      charts, ops.chartTools, table,
      // Only what the caller's role may do: a viewer gets no controls at all, an operator no reset.
      may('operator') ? el('div', { class: 'controls' }, advanceForm, pauseBox, policyForm, may('admin') ? resetBox : null) : null,
      may('operator') ? ops.controls : null);

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
    c.badge.textContent = statusText(room.status);
    c.badge.className = `badge ${room.status}`;
    c.facts.status.textContent = statusText(room.status);
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
    c.rowCells.status.textContent = statusText(room.status);
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
    updateOps(c, room);
  }

  // The history is sampled every ten seconds; the room's figures beside the charts are a moment
  // old. The charts end at those figures, so their latest point never lags what the card says.
  // Minutes summed over a step drawn as samples: admissions per minute of the step.
  function pointsAsSamples(points) {
    return points.map((p) => ({
      at_ms: p.at_ms,
      waiting: p.waiting,
      active_sessions: p.active_sessions,
      eta: p.eta,
      admissions_per_minute: p.minutes ? p.admissions / p.minutes : null,
      ...opsFieldsOfPoint(p),
    }));
  }

  function drawCharts(c, history) {
    const minutes = Array.isArray(history.points);
    const sampled = minutes ? pointsAsSamples(history.points) : history.samples || [];
    const nowMs = minutes ? history.to_ms : history.now_ms;
    const windowMs = minutes ? history.to_ms - history.from_ms : history.window_ms;
    const last = sampled.length ? sampled[sampled.length - 1] : null;
    const samples = sampled.slice();
    if (c.room && (!last || nowMs > last.at_ms)) {
      samples.push({
        at_ms: nowMs,
        waiting: c.room.waiting,
        active_sessions: c.room.active_sessions,
        eta: c.room.eta,
        admissions_per_minute: last ? last.admissions_per_minute : null,
        ...opsFieldsOfLive(last),
        ...siteFieldsOfLive(c, last),
      });
    }
    const why = { eta: serverEtaReason(c) ?? etaReason(c.room) };
    for (const chart of CHARTS) drawChart(c.charts[chart.key], chart, samples, windowMs, nowMs, why[chart.key]);
    c.cells.admissions.textContent = last ? fmtNumber(last.admissions_per_minute) : '–';
    drawOpsCharts(c, samples, windowMs, nowMs);
  }

  // ---- controls ------------------------------------------------------------------------------------

  async function act(c, msgEl, work) {
    say(msgEl, t('working'));
    try {
      const text = await work();
      say(msgEl, text);
      refreshNow();
      return true;
    } catch (e) {
      say(msgEl, t('not_done', { reason: e.message }), true);
      return false;
    }
  }

  function advance(c) {
    const by = Number(c.advanceInput.value);
    if (!Number.isInteger(by) || by < 1) {
      say(c.advanceMsg, t('advance_invalid'), true);
      c.advanceInput.focus();
      return;
    }
    act(c, c.advanceMsg, async () => {
      const r = await api('POST', `${roomPath(c.name)}/advance`, { by });
      return t('advanced', { by: fmtNumber(by), serving: fmtNumber(r.serving) });
    });
  }

  function setPaused(c, paused) {
    act(c, c.pauseMsg, async () => {
      const room = await api('POST', `${roomPath(c.name)}/${paused ? 'pause' : 'resume'}`);
      updateCard(c, room);
      return paused ? t('paused_done') : t('resumed_done');
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
      if (f.ratio ? !(n > 0 && n <= 1) : !Number.isInteger(n) || n < 0) {
        say(c.policyMsg, t(f.ratio ? 'field_invalid_ratio' : 'field_invalid', { field: f.label }), true);
        c.fields[f.key].input.focus();
        return;
      }
      admission[f.key] = n;
    }
    const ok = await act(c, c.policyMsg, async () => {
      const room = await api('PUT', roomPath(c.name), { admission });
      c.policyDirty = false;
      updateCard(c, room);
      return t('policy_applied', { policy: policyText(room) });
    });
    if (!ok) c.policyDirty = true;
  }

  async function resetRoom(c) {
    if (c.resetInput.value.trim() !== c.name) {
      say(c.resetDialogMsg, t('reset_mismatch', { room: c.name }), true);
      c.resetInput.focus();
      return;
    }
    try {
      const r = await api('POST', `${roomPath(c.name)}/reset`);
      c.dialog.close();
      say(c.resetMsg, t('reset_done', { epoch: r.epoch }));
      refreshNow();
    } catch (e) {
      say(c.resetDialogMsg, t('not_done', { reason: e.message }), true);
    }
  }

  // ---- operations: the room's line, schedule and message, and the charts that explain it -------
  //
  // The controls that exist only in the API (state, closing, queueing, max_waiting, scheduled
  // events, the message to the line), the pre-queues' commitments and seeds, the charts of
  // inflow, outflow, waits and losses, the server's word on why the line is not moving, and the
  // CSV export. Every control carries data-role (the least role the API asks of it) so that a
  // view for a lesser role can hide what it may not use.

  const STATES = ['open', 'paused', 'queue_all'];
  const STATE_LABELS = { open: t('ops.state_open'), paused: t('ops.state_paused'), queue_all: t('ops.state_queue_all') };
  const QUEUEINGS = ['fifo', 'random', 'passthrough'];
  const QUEUEING_LABELS = {
    fifo: t('ops.queueing_fifo'),
    random: t('ops.queueing_random'),
    passthrough: t('ops.queueing_passthrough'),
    reject: t('ops.queueing_reject'),
    draw: t('ops.queueing_draw'),
  };
  const MESSAGE_MAX_CHARS = 500;
  // The server's line.reason (GET …/stats) in words, for the line under the room's numbers.
  const LINE_TEXT = {
    paused: t('ops.line_paused'),
    queue_all: t('ops.line_queue_all'),
    prequeue: t('ops.line_prequeue'),
    manual: t('ops.line_manual'),
    not_started: t('ops.line_not_started'),
    closed: t('ops.line_closed'),
    max_active: t('ops.line_max_active'),
    capacity: t('ops.line_capacity'),
    drawing_full: t('ops.line_drawing_full'),
    site_health: t('ops.line_site_health'),
    sold_out: t('ops.line_sold_out'),
    inventory_reserved: t('ops.line_inventory_reserved'),
    nobody_waiting: t('ops.line_nobody_waiting'),
  };
  // The same reasons under the estimate chart, as its "No estimate: …" notes say them.
  const ETA_TEXT = {
    paused: t('eta_reason_paused'),
    queue_all: t('ops.eta_reason_queue_all'),
    prequeue: t('ops.eta_reason_prequeue'),
    manual: t('eta_reason_manual'),
    not_started: t('ops.eta_reason_not_started'),
    closed: t('ops.eta_reason_closed'),
    drawing_full: t('ops.eta_reason_drawing_full'),
    nobody_waiting: t('eta_reason_nobody'),
  };
  const OPS_CHARTS = [
    {
      key: 'flow',
      title: t('ops.chart_flow'),
      legend: t('ops.chart_flow_legend'),
      series: [
        { get: (s) => s.arrivals_per_minute, name: t('ops.series_arrivals') },
        { get: (s) => s.admissions_per_minute, name: t('ops.series_admissions'), style: 'dashed' },
      ],
    },
    {
      key: 'losses',
      title: t('ops.chart_losses'),
      legend: t('ops.chart_losses_legend'),
      series: [
        // Visitors who left the line: the server calls them left_line ("abandoned" there counts
        // sessions ended as abandoned).
        { get: (s) => s.left_line ?? s.abandoned, name: t('ops.series_abandoned') },
        { get: (s) => s.unclaimed, name: t('ops.series_unclaimed'), style: 'dashed' },
        { get: (s) => s.sessions_expired, name: t('ops.series_sessions_expired'), style: 'dotted' },
      ],
    },
  ];
  // An adaptive room's controller and its site's health, from the 10-second samples' limit, held
  // and site_p95_ms (null in other modes): shown only for rooms that have them.
  const SITE_CHARTS = [
    {
      key: 'site_load',
      title: t('ops.chart_site_load'),
      legend: t('ops.chart_site_load_legend'),
      series: [
        { get: (s) => s.limit, name: t('ops.series_limit') },
        { get: (s) => s.held, name: t('ops.series_held'), style: 'dashed' },
      ],
    },
    {
      key: 'site_p95',
      title: t('ops.chart_site_p95'),
      legend: t('ops.chart_site_p95_legend'),
      series: [
        { get: (s) => s.site_p95_ms, name: t('ops.series_site_p95') },
        { get: (s) => s.target_p95_ms, name: t('ops.series_target'), style: 'dashed' },
      ],
    },
  ];
  const dateTimeFormat = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' });
  const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

  const fmtDateTime = (iso) => (iso ? dateTimeFormat.format(new Date(iso)) : '–');

  // A datetime-local value ("2026-12-01T10:00", the browser's own time zone) as RFC 3339 with
  // that zone's offset at that moment ("2026-12-01T10:00:00+01:00"), or null if it is no time.
  function localToRfc3339(value) {
    const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(:\d{2})?/.exec(value);
    const d = new Date(value);
    if (!m || Number.isNaN(d.getTime())) return null;
    const offset = -d.getTimezoneOffset();
    const abs = Math.abs(offset);
    const pad = (n) => String(n).padStart(2, '0');
    return `${m[1]}${m[2] || ':00'}${offset < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  }

  // "UTC+01:00" for the browser's offset now.
  function utcOffsetNow() {
    const offset = -new Date().getTimezoneOffset();
    const abs = Math.abs(offset);
    return `UTC${offset < 0 ? '−' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  }

  // A minute point's new fields (absent until the server has them: the charts then show no data).
  function opsFieldsOfPoint(p) {
    return {
      arrivals_per_minute: p.minutes ? p.arrivals / p.minutes : null,
      waited_p50_s: p.waited_p50_s ?? null,
      waited_p95_s: p.waited_p95_s ?? null,
    };
  }

  // The figures carried into the point drawn at the room's own refresh (see drawCharts).
  function opsFieldsOfLive(last) {
    return {
      arrivals_per_minute: last ? last.arrivals_per_minute ?? null : null,
      waited_p50_s: last ? last.waited_p50_s ?? null : null,
      waited_p95_s: last ? last.waited_p95_s ?? null : null,
    };
  }

  // The controller's figures carried into the point drawn at the room's own refresh: the stats'
  // own when the room is adaptive now, so the charts end at what the Site health block says.
  function siteFieldsOfLive(c, last) {
    const a = c.ops.stats && c.ops.stats.adaptive;
    if (a) {
      const combined = (a.signals && a.signals.combined) || {};
      return { limit: a.limit, held: a.held, site_p95_ms: combined.p95_ms ?? null, site_error_ratio: combined.error_ratio ?? null };
    }
    return {
      limit: last ? last.limit ?? null : null,
      held: last ? last.held ?? null : null,
      site_p95_ms: last ? last.site_p95_ms ?? null : null,
      site_error_ratio: last ? last.site_error_ratio ?? null : null,
    };
  }

  // The estimate chart's note from the server's line.reason; null when the server gives none (the
  // page then guesses, etaReason), '' when there is an estimate.
  function serverEtaReason(c) {
    const line = c.ops.stats && c.ops.stats.line;
    if (!line || !c.room) return null;
    if (c.room.eta) return '';
    if (line.moving) return t('ops.eta_reason_moving');
    if (line.reason === 'max_active' || line.reason === 'capacity') {
      const a = c.room.admission || {};
      return t('eta_reason_full', { n: fmtNumber(line.reason === 'capacity' ? a.total_active : a.max_active) });
    }
    return ETA_TEXT[line.reason] || t('ops.eta_reason_other', { reason: line.reason });
  }

  function lineText(line) {
    if (line.moving) return t('ops.line_moving');
    return LINE_TEXT[line.reason] || t('ops.line_other', { reason: String(line.reason) });
  }

  const controlBox = (id, title, role, ...children) =>
    el('div', { class: 'control', role: 'group', 'aria-labelledby': id, 'data-role': role }, el('h3', { id, text: title }), ...children);
  const msgLine = () => el('p', { class: 'msg', 'aria-live': 'polite' });
  const field = (input, label) => el('div', { class: 'field' }, el('label', { for: input.id, text: label }), input);

  function buildOps(c, id, name, charts) {
    const o = { stats: null, draws: null, minutes: null, dirty: {}, eventsKey: null, messageKey: null };
    c.ops = o;

    // Why the line moves or not, in words, and what the visitors let in waited.
    o.line = el('p', { class: 'line-state', 'data-line': '', hidden: true });
    o.waited = el('p', { class: 'waited muted', 'data-waited': '', hidden: true });
    // An adaptive room's site health (GET …/stats, "adaptive"): what its controller reads and
    // the limit it set. data-site names each figure in English (for scripts and tests).
    o.site = {};
    const siteFacts = el('dl', { class: 'facts' });
    for (const [key, label] of [
      ['limit', t('ops.site_limit')],
      ['held', t('ops.site_held')],
      ['p95', t('ops.site_p95')],
      ['errors', t('ops.site_errors')],
      ['signals', t('ops.site_signals')],
      ['nodes', t('ops.site_nodes')],
    ]) {
      o.site[key] = el('dd', { 'data-site': key, text: '–' });
      siteFacts.append(el('div', {}, el('dt', { text: label }), o.site[key]));
    }
    o.siteBox = el('div', { class: 'site-health', 'data-site-health': '', role: 'group', 'aria-labelledby': `${id}-site-title`, hidden: true },
      el('h3', { id: `${id}-site-title`, text: t('ops.site_title') }), siteFacts);
    const lineBox = el('div', { class: 'line-box' }, o.line, o.waited, o.siteBox);

    // The charts of this section, in the same grid; the site's only for adaptive rooms.
    o.charts = {};
    for (const chart of [...OPS_CHARTS, ...SITE_CHARTS]) {
      const latest = el('span', { class: 'latest', text: '–' });
      const svgEl = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': t('chart_loading', { title: chart.title }), 'data-chart': chart.key });
      const why = el('p', { class: 'why muted', 'data-why': chart.key, hidden: true });
      const fig = el('figure', { class: 'chart', hidden: SITE_CHARTS.includes(chart) }, el('figcaption', {}, el('span', { text: chart.title }), latest), svgEl,
        el('p', { class: 'legend', text: chart.legend }), why);
      charts.append(fig);
      o.charts[chart.key] = { svg: svgEl, latest, why, fig };
    }

    // The history of the chosen range as CSV. A link cannot send Accept: text/csv, so the
    // script fetches it and hands the file to the browser.
    o.csvMsg = msgLine();
    // A read: offered to viewers too.
    const csvButton = el('button', { type: 'button', class: 'secondary csv-download', text: t('ops.csv_button') });
    csvButton.addEventListener('click', () => downloadCsv(c));
    const chartTools = el('div', { class: 'chart-tools' }, csvButton, o.csvMsg);

    // The line: state, closed or not, queueing method, the cap on waiting visitors.
    const stateName = `${id}-state`;
    o.stateInputs = STATES.map((s) => el('input', { type: 'radio', name: stateName, value: s, id: `${stateName}-${s}` }));
    o.stateMsg = msgLine();
    const stateForm = el('form', {},
      el('fieldset', { class: 'plain' }, el('legend', { text: t('ops.state_legend') }),
        ...o.stateInputs.map((input, i) => el('div', { class: 'choice' }, input, el('label', { for: input.id, text: STATE_LABELS[STATES[i]] }))),
        el('button', { type: 'submit', text: t('ops.state_apply') })),
      o.stateMsg);
    stateForm.addEventListener('input', () => { o.dirty.state = true; });
    stateForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      applyOps(c, o.stateMsg, 'state', { state: (o.stateInputs.find((i) => i.checked) || {}).value },
        (room) => t('ops.state_applied', { state: statusText(room.state) }));
    });

    o.queueingSelect = el('select', { id: `${id}-queueing` });
    for (const q of QUEUEINGS) o.queueingSelect.append(el('option', { value: q, text: QUEUEING_LABELS[q] }));
    o.queueingMsg = msgLine();
    const queueingForm = el('form', {},
      el('div', { class: 'row' }, field(o.queueingSelect, t('ops.queueing_label')), el('button', { type: 'submit', text: t('ops.queueing_apply') })),
      o.queueingMsg);
    o.queueingSelect.addEventListener('change', () => { o.dirty.queueing = true; });
    queueingForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      applyOps(c, o.queueingMsg, 'queueing', { queueing: o.queueingSelect.value },
        (room) => t('ops.queueing_applied', { queueing: QUEUEING_LABELS[room.queueing] || room.queueing }));
    });

    o.maxWaitingInput = numberInput(`${id}-max-waiting`, { min: 1 });
    o.maxWaitingMsg = msgLine();
    // novalidate: the script checks the numbers and says what is wrong in the live region.
    const maxWaitingForm = el('form', { novalidate: true },
      el('div', { class: 'row' }, field(o.maxWaitingInput, t('ops.max_waiting_label')), el('button', { type: 'submit', text: t('ops.max_waiting_apply') })),
      el('p', { class: 'hint muted', text: t('ops.max_waiting_hint') }),
      o.maxWaitingMsg);
    o.maxWaitingInput.addEventListener('input', () => { o.dirty.maxWaiting = true; });
    maxWaitingForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const raw = o.maxWaitingInput.value.trim();
      const n = raw === '' ? null : Number(raw);
      if (n !== null && (!Number.isInteger(n) || n < 1)) {
        say(o.maxWaitingMsg, t('ops.max_waiting_invalid'), true);
        o.maxWaitingInput.focus();
        return;
      }
      applyOps(c, o.maxWaitingMsg, 'maxWaiting', { abuse: { max_waiting: n } }, (room) => {
        const max = room.abuse ? room.abuse.max_waiting : null;
        return max === null || max === undefined ? t('ops.max_waiting_cleared') : t('ops.max_waiting_applied', { n: fmtNumber(max) });
      });
    });

    // Closing turns new visitors away (queueing "reject"), behind a confirmation; reopening
    // sets the queueing method chosen above.
    o.closedText = el('p', { class: 'closed-state' });
    o.closeButton = el('button', { type: 'button', class: 'danger secondary', text: t('ops.close_open'), 'aria-haspopup': 'dialog' });
    o.reopenButton = el('button', { type: 'button', text: t('ops.reopen_button'), hidden: true });
    o.closeMsg = msgLine();
    const cancel = el('button', { type: 'button', class: 'secondary', text: t('cancel') });
    o.closeDialog = el('dialog', { 'aria-labelledby': `${id}-close-title`, 'aria-describedby': `${id}-close-desc` },
      el('form', {},
        el('h3', { id: `${id}-close-title`, text: t('ops.close_dialog_title', { room: name }) }),
        el('p', { id: `${id}-close-desc`, text: t('ops.close_dialog_text') }),
        el('div', { class: 'buttons' }, el('button', { type: 'submit', class: 'danger', text: t('ops.close_button') }), cancel)));
    o.closeButton.addEventListener('click', () => o.closeDialog.showModal());
    cancel.addEventListener('click', () => {
      o.closeDialog.close();
      say(o.closeMsg, t('ops.close_cancelled'));
    });
    o.closeDialog.addEventListener('close', () => (o.closeButton.hidden ? o.reopenButton : o.closeButton).focus());
    o.closeDialog.querySelector('form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      o.closeDialog.close();
      applyOps(c, o.closeMsg, null, { queueing: 'reject' }, () => t('ops.closed_done'));
    });
    o.reopenButton.addEventListener('click', () => {
      const queueing = o.queueingSelect.value;
      applyOps(c, o.closeMsg, null, { queueing }, () => t('ops.reopened_done', { queueing: QUEUEING_LABELS[queueing] }));
    });
    const closeBox = el('div', { class: 'close-box' }, o.closedText, el('div', { class: 'row' }, o.closeButton, o.reopenButton), o.closeMsg, o.closeDialog);

    const lineControl = controlBox(`${id}-line-title`, t('ops.line_title'), 'operator', stateForm, closeBox, queueingForm, maxWaitingForm);

    // Scheduled events, their pre-queues' draws, and a form to add one.
    o.events = el('ol', { class: 'events' });
    o.noEvents = el('p', { class: 'muted', text: t('ops.events_none') });
    o.drawNote = el('p', { class: 'hint muted', text: t('ops.draw_explain'), hidden: true });
    o.eventsMsg = msgLine();
    const input = (key, type, attrs = {}) => el('input', { id: `${id}-event-${key}`, type, ...attrs });
    o.eventStart = input('start', 'datetime-local', { required: true });
    o.eventEnd = input('end', 'datetime-local');
    o.eventPrequeue = input('prequeue', 'datetime-local');
    o.eventMode = el('select', { id: `${id}-event-mode` }, el('option', { value: '', text: t('ops.event_no_change') }));
    for (const m of EVENT_MODES) o.eventMode.append(el('option', { value: m, text: MODE_LABELS[m] }));
    o.eventRate = numberInput(`${id}-event-rate`, { min: 0 });
    o.eventQueueing = el('select', { id: `${id}-event-queueing` }, el('option', { value: '', text: t('ops.event_no_change') }));
    for (const q of [...QUEUEINGS, 'reject']) o.eventQueueing.append(el('option', { value: q, text: QUEUEING_LABELS[q] }));
    o.addEventMsg = msgLine();
    const addForm = el('form', { class: 'add-event', novalidate: true },
      el('fieldset', { class: 'plain' }, el('legend', { text: t('ops.event_add_legend') }),
        el('p', { class: 'hint muted', text: t('ops.time_zone_note', { zone: `${timeZone} (${utcOffsetNow()})` }) }),
        el('div', { class: 'fields' },
          field(o.eventPrequeue, t('ops.event_prequeue_label')),
          field(o.eventStart, t('ops.event_start_label')),
          field(o.eventEnd, t('ops.event_end_label')),
          field(o.eventMode, t('ops.event_mode_label')),
          field(o.eventRate, t('ops.event_rate_label')),
          field(o.eventQueueing, t('ops.event_queueing_label'))),
        el('button', { type: 'submit', text: t('ops.event_add_button') })),
      o.addEventMsg);
    addForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      addEvent(c);
    });
    const scheduleControl = controlBox(`${id}-events-title`, t('ops.events_title'), 'operator',
      o.noEvents, o.events, o.drawNote, o.eventsMsg, addForm);

    // A message shown to everyone waiting.
    o.messageNow = el('p', { class: 'message-now', 'data-message': '' });
    o.messageText = el('textarea', { id: `${id}-message`, rows: 3, maxlength: MESSAGE_MAX_CHARS });
    o.messageMsg = msgLine();
    const removeButton = el('button', { type: 'button', class: 'secondary', text: t('ops.message_remove') });
    const messageForm = el('form', {},
      field(o.messageText, t('ops.message_label')),
      el('div', { class: 'row' }, el('button', { type: 'submit', text: t('ops.message_show') }), removeButton),
      o.messageMsg);
    o.messageText.addEventListener('input', () => { o.dirty.message = true; });
    messageForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      setMessage(c);
    });
    removeButton.addEventListener('click', () => removeMessage(c));
    const messageControl = controlBox(`${id}-message-title`, t('ops.message_title'), 'operator', o.messageNow, messageForm);

    return {
      lineBox,
      chartTools,
      rows: [
        [t('ops.row_line'), 'line'],
        [t('ops.row_arrivals'), 'arrivals'],
        [t('ops.series_waited_p50'), 'waited50'],
        [t('ops.series_waited_p95'), 'waited95'],
      ],
      controls: el('div', { class: 'ops-controls' }, lineControl, scheduleControl, messageControl),
    };
  }

  // The room's settings into the controls, except where the operator is editing.
  function updateOps(c, room) {
    const o = c.ops;
    const state = room.state || (room.status === 'paused' ? 'paused' : 'open');
    if (!o.dirty.state) for (const i of o.stateInputs) i.checked = i.value === state;
    const closed = room.queueing === 'reject';
    if (!o.dirty.queueing && QUEUEINGS.includes(room.queueing)) o.queueingSelect.value = room.queueing;
    const max = room.abuse ? room.abuse.max_waiting : null;
    if (!o.dirty.maxWaiting) o.maxWaitingInput.value = max === null || max === undefined ? '' : max;
    o.closedText.textContent = closed ? t('ops.closed_state') : t('ops.open_state');
    o.closedText.classList.toggle('closed', closed);
    const hadFocus = document.activeElement === o.closeButton || document.activeElement === o.reopenButton;
    o.closeButton.hidden = closed;
    o.reopenButton.hidden = !closed;
    if (hadFocus) (closed ? o.reopenButton : o.closeButton).focus();
    renderEvents(c);
    renderMessage(c, room);
  }

  function renderMessage(c, room) {
    const o = c.ops;
    if (!('message' in room)) {
      o.messageNow.textContent = '';
      o.messageNow.hidden = true;
      return;
    }
    const m = room.message;
    o.messageNow.hidden = false;
    const key = m ? `${m.set_at}|${m.text}` : '';
    if (key === o.messageKey) return;
    o.messageKey = key;
    if (!m) {
      o.messageNow.textContent = t('ops.message_none');
    } else {
      o.messageNow.replaceChildren(t('ops.message_shown', { time: fmtDateTime(m.set_at) }), ' ', el('q', { text: m.text }));
    }
    if (!o.dirty.message) o.messageText.value = m ? m.text : '';
  }

  // The schedule as a list, rebuilt only when it or its draws change (so the focus stays).
  function renderEvents(c) {
    const o = c.ops;
    const events = (c.room && c.room.events) || [];
    const draws = o.draws || [];
    const key = JSON.stringify([events, draws]);
    if (key === o.eventsKey) return;
    o.eventsKey = key;
    const hadFocus = o.events.contains(document.activeElement);
    o.events.replaceChildren();
    events.forEach((e, index) => {
      const item = el('li', { 'data-event-start': e.start });
      item.append(el('p', { class: 'when' }, el('strong', {
        text: e.end ? t('ops.event_when', { start: fmtDateTime(e.start), end: fmtDateTime(e.end) }) : t('ops.event_when_open', { start: fmtDateTime(e.start) }),
      })));
      item.append(el('p', { text: e.prequeue_start ? t('ops.event_prequeue', { time: fmtDateTime(e.prequeue_start) }) : t('ops.event_no_prequeue') }));
      const ov = e.overrides || {};
      const parts = [];
      if (ov.admission) parts.push(policyText({ admission: ov.admission }));
      if (ov.queueing) parts.push(QUEUEING_LABELS[ov.queueing] || ov.queueing);
      item.append(el('p', { text: parts.length ? t('ops.event_overrides', { list: parts.join(t('list_separator')) }) : t('ops.event_no_overrides') }));
      if (e.prequeue_start) item.append(drawPart(draws.find((d) => Date.parse(d.event_start) === Date.parse(e.start))));
      const remove = el('button', { type: 'button', class: 'secondary', text: t('ops.event_remove'),
        'aria-label': t('ops.event_remove_named', { start: fmtDateTime(e.start) }) });
      remove.addEventListener('click', () => removeEvent(c, index));
      item.append(remove);
      o.events.append(item);
    });
    o.events.hidden = events.length === 0;
    o.noEvents.hidden = events.length > 0;
    o.drawNote.hidden = !events.some((e) => e.prequeue_start);
    // The focus was on a Remove button that is gone: the next one, or the form when none is left.
    if (hadFocus) (o.events.querySelector('button') || o.eventStart).focus();
  }

  // A pre-queue's commitment once published, then its seed (GET /v1/rooms/{room}/draws).
  function drawPart(draw) {
    const box = el('dl', { class: 'draw', 'data-draw': draw ? (draw.seed ? 'seed' : 'commitment') : 'pending' });
    const pair = (label, value) => el('div', {}, el('dt', { text: label }), el('dd', {}, value));
    if (!draw) {
      box.append(pair(t('ops.draw_commitment'), t('ops.draw_commitment_pending')));
      return box;
    }
    box.append(pair(t('ops.draw_commitment'), el('code', { 'data-commitment': '', text: draw.commitment })));
    box.append(pair(t('ops.draw_seed'), draw.seed ? el('code', { 'data-seed': '', text: draw.seed }) : t('ops.draw_seed_pending')));
    return box;
  }

  // A PUT of some of the room's settings; `dirtyKey` names the edit it ends.
  async function applyOps(c, msgEl, dirtyKey, body, done) {
    await act(c, msgEl, async () => {
      const room = await api('PUT', roomPath(c.name), body);
      if (dirtyKey) c.ops.dirty[dirtyKey] = false;
      updateCard(c, room);
      return done(room);
    });
  }

  function addEvent(c) {
    const o = c.ops;
    const times = {};
    for (const [key, input, required] of [['start', o.eventStart, true], ['end', o.eventEnd, false], ['prequeue_start', o.eventPrequeue, false]]) {
      if (input.value === '') {
        if (required) {
          say(o.addEventMsg, t('ops.event_start_missing'), true);
          input.focus();
          return;
        }
        continue;
      }
      times[key] = localToRfc3339(input.value);
      if (!times[key]) {
        say(o.addEventMsg, t('ops.event_time_invalid'), true);
        input.focus();
        return;
      }
    }
    const event = { ...times };
    const overrides = {};
    if (o.eventMode.value || o.eventRate.value !== '') {
      overrides.admission = {};
      if (o.eventMode.value) overrides.admission.mode = o.eventMode.value;
      if (o.eventRate.value !== '') {
        const rate = Number(o.eventRate.value);
        if (!Number.isInteger(rate) || rate < 0) {
          say(o.addEventMsg, t('field_invalid', { field: t('ops.event_rate_label') }), true);
          o.eventRate.focus();
          return;
        }
        overrides.admission.rate_per_minute = rate;
      }
    }
    if (o.eventQueueing.value) overrides.queueing = o.eventQueueing.value;
    event.overrides = overrides;
    // The API replaces the whole schedule: send the events kept, with the new one in time order.
    const events = [...((c.room && c.room.events) || []), event]
      .sort((a, b) => Date.parse(a.prequeue_start || a.start) - Date.parse(b.prequeue_start || b.start));
    act(c, o.addEventMsg, async () => {
      const room = await api('PUT', roomPath(c.name), { events });
      updateCard(c, room);
      for (const i of [o.eventStart, o.eventEnd, o.eventPrequeue, o.eventRate]) i.value = '';
      o.eventMode.value = '';
      o.eventQueueing.value = '';
      return t('ops.event_added', { start: fmtDateTime(times.start) });
    });
  }

  function removeEvent(c, index) {
    const events = ((c.room && c.room.events) || []).slice();
    const [gone] = events.splice(index, 1);
    if (!gone) return;
    act(c, c.ops.eventsMsg, async () => {
      const room = await api('PUT', roomPath(c.name), { events });
      updateCard(c, room);
      return t('ops.event_removed', { start: fmtDateTime(gone.start) });
    });
  }

  function setMessage(c) {
    const o = c.ops;
    const text = o.messageText.value.trim();
    if (!text) {
      say(o.messageMsg, t('ops.message_empty'), true);
      o.messageText.focus();
      return;
    }
    act(c, o.messageMsg, async () => {
      const r = await api('PUT', `${roomPath(c.name)}/message`, { text });
      o.dirty.message = false;
      if (c.room) renderMessage(c, { ...c.room, message: r.message });
      return t('ops.message_set');
    });
  }

  function removeMessage(c) {
    const o = c.ops;
    act(c, o.messageMsg, async () => {
      await api('DELETE', `${roomPath(c.name)}/message`);
      o.dirty.message = false;
      o.messageText.value = '';
      if (c.room) renderMessage(c, { ...c.room, message: null });
      return t('ops.message_removed');
    });
  }

  // The history query of the chosen range (as roomHistory asks for it).
  function historyQuery() {
    const r = RANGES[range];
    if (!r) return '';
    return `?step=${r.stepS}&from=${Math.round(Date.now() + serverOffsetMs - r.ms)}`;
  }

  async function downloadCsv(c) {
    const o = c.ops;
    say(o.csvMsg, t('working'));
    try {
      const r = await fetch(`${roomPath(c.name)}/history${historyQuery()}`, {
        headers: { Accept: 'text/csv' }, credentials: 'same-origin', cache: 'no-store',
      });
      if (!r.ok) {
        if (r.status === 401) sessionEnded();
        let detail = t('server_answered', { status: r.status });
        try {
          detail = (await r.json()).detail || detail;
        } catch { /* not problem+json */ }
        throw new Error(detail);
      }
      const file = `${c.name}-history-${range}.csv`;
      const url = URL.createObjectURL(await r.blob());
      const a = el('a', { href: url, download: file, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), MINUTES_REFRESH_MS);
      say(o.csvMsg, t('ops.csv_done', { file }));
    } catch (e) {
      say(o.csvMsg, t('not_done', { reason: e.message }), true);
    }
  }

  // The minute points behind the losses chart: the chosen range's own in 24 h and 7 d, the last
  // hour's minutes (read once a minute) in 1 h, where the charts show 10-second samples.
  async function lossesHistory(c) {
    if (RANGES[range]) return c.kept && c.kept.range === range ? c.kept.history : null;
    const o = c.ops;
    if (o.minutes && Date.now() - o.minutes.at < MINUTES_REFRESH_MS) return o.minutes.history;
    const from = Math.round(Date.now() + serverOffsetMs - HOUR_MS);
    const history = await api('GET', `${roomPath(c.name)}/history?step=60&from=${from}`);
    o.minutes = { at: Date.now(), history };
    return history;
  }

  // The room's stats (line, waited), its draws when it has a pre-queue, and the minutes of the
  // losses chart. A failure leaves the last ones in place; the refresh goes on.
  async function refreshOps(c) {
    const o = c.ops;
    const path = roomPath(c.name);
    const quietly = (p) => p.catch(() => undefined);
    const jobs = [quietly(api('GET', `${path}/stats`).then((s) => { o.stats = s; }))];
    const events = (c.room && c.room.events) || [];
    if (events.some((e) => e.prequeue_start) || (o.draws && o.draws.length)) {
      jobs.push(quietly(api('GET', `/v1/rooms/${encodeURIComponent(c.name)}/draws`).then((d) => { o.draws = d.draws || []; })));
    }
    jobs.push(quietly(lossesHistory(c).then((h) => { o.losses = h; })));
    await Promise.all(jobs);
  }

  function drawOpsCharts(c, samples, windowMs, nowMs) {
    const o = c.ops;
    drawChart(o.charts.flow, OPS_CHARTS[0], samples, windowMs, nowMs);
    const losses = o.losses && Array.isArray(o.losses.points) ? o.losses : null;
    const stepS = losses ? losses.step_s : 60;
    const per = stepS === 60 ? t('ops.losses_per_minute') : t('ops.losses_per_step', { minutes: fmtNumber(stepS / 60) });
    if (losses) drawChart(o.charts.losses, OPS_CHARTS[1], losses.points, losses.to_ms - losses.from_ms, losses.to_ms, per);
    else drawChart(o.charts.losses, OPS_CHARTS[1], [], windowMs, nowMs, per);
    renderEvents(c);

    const line = o.stats && o.stats.line;
    o.line.hidden = !line;
    if (line) {
      o.line.textContent = lineText(line);
      o.line.classList.toggle('stopped', !line.moving);
    }
    c.cells.line.textContent = line ? lineText(line) : '–';
    const waited = o.stats && o.stats.waited;
    o.waited.hidden = !waited;
    if (waited) {
      const span = fmtWindow(waited.window_s * 1000);
      o.waited.textContent = waited.count
        ? tp('ops.waited_summary', waited.count, { window: span, p50: fmtDuration(waited.p50_s), p95: fmtDuration(waited.p95_s) })
        : t('ops.waited_none', { window: span });
    }
    const last = samples.length ? samples[samples.length - 1] : null;
    c.cells.arrivals.textContent = last ? fmtNumber(last.arrivals_per_minute) : '–';
    c.cells.waited50.textContent = waited && waited.count ? fmtDuration(waited.p50_s) : '–';
    c.cells.waited95.textContent = waited && waited.count ? fmtDuration(waited.p95_s) : '–';
    drawSite(c, samples, windowMs, nowMs);
  }

  // The Site health block and charts of an adaptive room (or of one that was adaptive within the
  // charts' window); hidden for the others.
  function drawSite(c, samples, windowMs, nowMs) {
    const o = c.ops;
    const a = o.stats && o.stats.adaptive;
    const admission = (c.room && c.room.admission) || {};
    o.siteBox.hidden = !a;
    if (a) {
      const signals = a.signals || {};
      const combined = signals.combined || {};
      const ms = (v) => (v === null || v === undefined ? '–' : t('ops.site_ms', { n: fmtNumber(v) }));
      o.site.limit.textContent = a.limit === null || a.limit === undefined ? t('ops.site_no_limit') : fmtNumber(a.limit);
      o.site.held.textContent = fmtNumber(a.held);
      o.site.p95.textContent = t('ops.site_p95_value', { p95: ms(combined.p95_ms), target: ms(a.target_p95_ms) });
      o.site.errors.textContent = t('ops.site_errors_value', { ratio: fmtPercent(combined.error_ratio), max: fmtPercent(a.max_error_ratio) });
      o.site.signals.textContent = combined.known ? t('ops.site_signals_known') : t('ops.site_signals_unknown');
      o.site.nodes.textContent = fmtNumber(signals.nodes);
    }
    const has = (s) => s.held !== null && s.held !== undefined;
    const shown = Boolean(a) || samples.some(has);
    const target = a ? a.target_p95_ms : admission.target_p95_ms ?? null;
    const withTarget = samples.map((s) => ({ ...s, target_p95_ms: has(s) ? target : null }));
    // The minutes of the longer ranges do not keep the controller's figures.
    const why = RANGES[range] ? t('ops.site_chart_hour_only') : null;
    for (const chart of SITE_CHARTS) {
      const part = o.charts[chart.key];
      part.fig.hidden = !shown;
      if (shown) drawChart(part, chart, withTarget, windowMs, nowMs, why);
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

  // The room's history for the chosen range; a longer range's is kept for a minute.
  async function roomHistory(c) {
    const r = RANGES[range];
    let history;
    if (!r) {
      history = await api('GET', `${roomPath(c.name)}/history`);
    } else if (c.kept && c.kept.range === range && Date.now() - c.kept.at < MINUTES_REFRESH_MS) {
      return c.kept.history;
    } else {
      const from = Date.now() + serverOffsetMs - r.ms;
      history = await api('GET', `${roomPath(c.name)}/history?step=${r.stepS}&from=${Math.round(from)}`);
      c.kept = { range, at: Date.now(), history };
    }
    serverOffsetMs = history.now_ms - Date.now();
    return history;
  }

  async function refresh() {
    try {
      const { rooms } = await api('GET', '/admin/v1/rooms');
      renderRooms(rooms);
      await Promise.all(rooms.map(async (room) => {
        const c = cards.get(room.room);
        if (!c) return;
        const [history] = await Promise.all([roomHistory(c), refreshOps(c)]);
        drawCharts(c, history);
      }));
      updated.textContent = t('updated', { time: new Date().toLocaleTimeString(lang) });
      if (!stopped && notice.dataset.kind === 'error') {
        notice.textContent = '';
        delete notice.dataset.kind;
      }
    } catch (e) {
      if (stopped) return;
      notice.textContent = t('refresh_failed', { reason: e.message });
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

  for (const input of rangeInputs) {
    input.addEventListener('change', () => {
      if (!input.checked) return;
      range = input.value;
      refreshNow();
    });
  }

  // ---- who is signed in, and the views: rooms, audit trail, tokens ----------------------------

  // The caller the server signed in (<body data-caller>): the page offers only what its role may
  // do, in the rooms it may use. The server refuses the rest anyway (403): hiding is a
  // convenience, not the guard.
  const CALLER = (() => {
    try {
      return JSON.parse(document.body.dataset.caller || '{}');
    } catch {
      return {};
    }
  })();
  const ROLE_RANK = { viewer: 1, operator: 2, admin: 3 };
  function may(role) {
    return (ROLE_RANK[CALLER.role] || 0) >= ROLE_RANK[role];
  }

  const byId = (id) => document.getElementById(id);
  const auditTimeFormat = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'medium' });
  const fmtTime = (ms) => auditTimeFormat.format(new Date(ms));

  // A row of a <dl>: the label and what it says.
  function entryRow(label, ...content) {
    return el('div', {}, el('dt', { text: label }), el('dd', {}, ...content));
  }

  // The audit trail, newest first, 50 entries at a time: each "older" reads the next page back
  // from the last one shown (order=newest, before=), so a long trail is never read whole.
  const auditView = (() => {
    const PER_PAGE = 50;
    const list = byId('audit-list');
    const msg = byId('audit-msg');
    const older = byId('audit-older');
    const actorInput = byId('audit-actor');
    let roomInput = byId('audit-room');
    // A token limited to some rooms reads their entries one room at a time (the API needs room=).
    if (CALLER.rooms && CALLER.rooms.length) {
      const select = el('select', { id: 'audit-room' });
      for (const r of CALLER.rooms) select.append(el('option', { value: r, text: r }));
      roomInput.replaceWith(select);
      roomInput = select;
    }
    let query = {};
    let before = 0;  // the oldest entry shown: the next page reads before it
    let shown = 0;
    let loads = 0;   // a new filter while a page is on its way: the late page is dropped

    // How a token came in, when the actor's name does not say it ("admin key", "dashboard" and
    // "config" do).
    function viaText(e) {
      if (!e.token_id) return '';
      return e.via === 'session' ? t('audit.via_session_token', { id: e.token_id }) : t('audit.via_token', { id: e.token_id });
    }

    const asText = (v) => (typeof v === 'string' ? v : JSON.stringify(v));
    function changesOf(e) {
      const d = e.details || {};
      const lines = [];
      if (d.created === true) lines.push(t('audit.room_created'));
      if (Array.isArray(d.changes)) {
        for (const c of d.changes) lines.push(t('audit.change', { setting: c.setting, from: asText(c.from), to: asText(c.to) }));
        if (!d.changes.length && d.created !== true) lines.push(t('audit.no_changes'));
      }
      for (const [k, v] of Object.entries(d)) {
        if (k === 'changes' || k === 'created') continue;
        lines.push(`${k}: ${asText(v)}`);
      }
      return lines;
    }

    function entryItem(e) {
      const changes = changesOf(e);
      const what = e.room ? t('audit.in_room', { what: e.action, room: e.room }) : e.action;
      return el('li', { class: 'audit-entry', 'data-audit-id': e.id, 'data-actor': e.actor, 'data-action': e.action },
        el('dl', {},
          entryRow(t('audit.when'), el('time', { datetime: new Date(e.at_ms).toISOString(), text: fmtTime(e.at_ms) })),
          entryRow(t('audit.who'), el('strong', { text: e.actor }), viaText(e) ? ` ${viaText(e)}` : null),
          entryRow(t('audit.where'), e.address || '–'),
          entryRow(t('audit.what'), what),
          changes.length ? entryRow(t('audit.changes'), el('ul', {}, ...changes.map((text) => el('li', { text })))) : null));
    }

    async function showMore(focusNew) {
      const load = loads;
      older.disabled = true;
      let page;
      try {
        // One more than shown: whether there are older ones.
        const q = new URLSearchParams({ ...query, order: 'newest', limit: String(PER_PAGE + 1) });
        if (before) q.set('before', String(before));
        page = await api('GET', `/admin/v1/audit?${q}`);
      } catch (e) {
        if (load === loads) say(msg, t('audit.failed', { reason: e.message }), true);
        return;
      } finally {
        older.disabled = false;
      }
      if (load !== loads) return;
      const entries = page.entries.slice(0, PER_PAGE);
      const items = entries.map(entryItem);
      list.append(...items);
      shown += items.length;
      if (entries.length) before = entries[entries.length - 1].id;
      older.hidden = page.entries.length <= PER_PAGE;
      say(msg, shown ? tp('audit.shown', shown) : t('audit.empty'));
      // The button may have gone: the first entry it brought takes the focus.
      if (focusNew && items.length) {
        items[0].tabIndex = -1;
        items[0].focus();
      }
    }

    function load() {
      ++loads;
      query = {};
      if (roomInput.value.trim()) query.room = roomInput.value.trim();
      if (actorInput.value.trim()) query.actor = actorInput.value.trim();
      list.replaceChildren();
      older.hidden = true;
      before = 0;
      shown = 0;
      say(msg, t('audit.loading'));
      return showMore(false);
    }

    byId('audit-filter').addEventListener('submit', (ev) => {
      ev.preventDefault();
      load();
    });
    older.addEventListener('click', () => showMore(true));
    return { open: load };
  })();

  // Operator tokens (admins): the list, a new token whose secret shows once, revoking behind a
  // confirmation.
  const tokensView = (() => {
    if (!byId('tokens')) return { open() {} };
    const tbody = byId('token-list').querySelector('tbody');
    const msg = byId('tokens-msg');
    const form = byId('token-create');
    const createMsg = byId('token-create-msg');
    const nameInput = byId('token-name');
    const roleSelect = byId('token-role');
    const roomsInput = byId('token-rooms');
    const daysInput = byId('token-days');
    const secretBox = byId('token-secret');
    const secretTitle = byId('token-secret-title');
    const secretValue = byId('token-secret-value');
    const copyMsg = byId('token-copy-msg');
    const dialog = byId('token-revoke');
    const dialogTitle = byId('token-revoke-title');
    const dialogMsg = byId('token-revoke-msg');
    let revoking = null; // { token, button }

    function stateOf(tk) {
      if (tk.revoked_at) return { live: false, text: t('tokens.state_revoked', { time: fmtTime(tk.revoked_at * 1000) }) };
      if (tk.expires_at && tk.expires_at * 1000 <= Date.now() + serverOffsetMs) return { live: false, text: t('tokens.state_expired') };
      return { live: true, text: t('tokens.state_live') };
    }

    function render(tokens) {
      tbody.replaceChildren();
      if (msg.textContent === t('tokens.empty')) say(msg, '');
      for (const tk of tokens.slice().sort((a, b) => b.created_at - a.created_at)) {
        const state = stateOf(tk);
        let revoke = null;
        if (state.live) {
          revoke = el('button', {
            type: 'button', class: 'danger secondary', text: t('tokens.revoke'),
            'aria-label': t('tokens.revoke_named', { name: tk.name }), 'aria-haspopup': 'dialog',
          });
          revoke.addEventListener('click', () => {
            revoking = { token: tk, button: revoke };
            dialogTitle.textContent = t('tokens.revoke_title', { name: tk.name });
            say(dialogMsg, '');
            dialog.showModal();
            byId('token-revoke-cancel').focus();
          });
        }
        const roleText = `access.role_${tk.role}` in STRINGS ? t(`access.role_${tk.role}`) : tk.role;
        tbody.append(el('tr', { 'data-token-id': tk.id, 'data-state': state.live ? 'live' : 'ended' },
          el('th', { scope: 'row', text: tk.name }),
          el('td', { text: roleText }),
          el('td', { text: tk.rooms.length ? tk.rooms.join(t('list_separator')) : t('tokens.all_rooms') }),
          el('td', { text: fmtTime(tk.created_at * 1000) }),
          el('td', { text: tk.expires_at ? fmtTime(tk.expires_at * 1000) : t('tokens.never') }),
          el('td', { class: 'token-last-used', text: tk.last_used_at ? fmtTime(tk.last_used_at * 1000) : t('tokens.never_used') }),
          el('td', { text: state.text }),
          el('td', {}, revoke)));
      }
      if (!tokens.length) say(msg, t('tokens.empty'));
    }

    async function load() {
      try {
        const { tokens } = await api('GET', '/admin/v1/tokens');
        if (msg.classList.contains('error')) say(msg, '');
        render(tokens);
      } catch (e) {
        say(msg, t('tokens.failed', { reason: e.message }), true);
      }
    }

    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const name = nameInput.value.trim();
      if (!name) {
        say(createMsg, t('tokens.name_required'), true);
        nameInput.focus();
        return;
      }
      const body = { name, role: roleSelect.value };
      const rooms = roomsInput.value.split(',').map((r) => r.trim()).filter(Boolean);
      if (rooms.length) body.rooms = rooms;
      if (daysInput.value.trim() !== '') {
        const days = Number(daysInput.value);
        if (!Number.isInteger(days) || days < 1 || days > 3660) {
          say(createMsg, t('tokens.expires_invalid'), true);
          daysInput.focus();
          return;
        }
        body.expires_in_s = days * 86400;
      }
      say(createMsg, t('working'));
      try {
        const made = await api('POST', '/admin/v1/tokens', body);
        form.reset();
        say(createMsg, '');
        secretTitle.textContent = t('tokens.created', { name: made.name });
        secretValue.value = made.token;
        say(copyMsg, '');
        secretBox.hidden = false;
        secretTitle.focus();
        load();
      } catch (e) {
        say(createMsg, t('not_done', { reason: e.message }), true);
      }
    });

    byId('token-copy').addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(secretValue.value);
        say(copyMsg, t('tokens.copied'));
      } catch {
        secretValue.select();
        say(copyMsg, t('tokens.copy_failed'), true);
      }
    });
    // The secret leaves the page once its holder has it.
    byId('token-secret-done').addEventListener('click', () => {
      secretValue.value = '';
      secretBox.hidden = true;
      nameInput.focus();
    });

    byId('token-revoke-cancel').addEventListener('click', () => {
      dialog.close();
      say(msg, t('tokens.revoke_cancelled'));
    });
    dialog.addEventListener('close', () => {
      // Back to the button that opened it; once revoked, the button is gone: the message instead.
      if (revoking && revoking.button.isConnected) revoking.button.focus();
      else {
        msg.tabIndex = -1;
        msg.focus();
      }
    });
    dialog.querySelector('form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const { token } = revoking;
      try {
        await api('DELETE', `/admin/v1/tokens/${encodeURIComponent(token.id)}`);
        say(msg, t('tokens.revoked_done', { name: token.name }));
        await load();
        dialog.close();
      } catch (e) {
        say(dialogMsg, t('not_done', { reason: e.message }), true);
      }
    });
    return { open: load };
  })();

  // One view shows at a time, named by the address's #fragment: #audit, #tokens, else the rooms
  // (#room-view, or a room's own #room-NAME). The skip link's #rooms keeps the view as it is.
  const VIEWS = {
    rooms: { heading: 'overview-title', open() {} },
    audit: { heading: 'audit-title', open: auditView.open },
    tokens: { heading: 'tokens-title', open: tokensView.open },
  };
  const viewLinks = [...document.querySelectorAll('nav.views a[data-view]')];
  const viewPanels = [...document.querySelectorAll('[data-view-panel]')];
  let view = null;

  function viewOf(hash) {
    const name = hash.replace(/^#/, '');
    if (name === 'audit' || (name === 'tokens' && byId('tokens'))) return name;
    if (name === 'rooms' && view) return view;
    return 'rooms';
  }

  function showView(name, moveFocus) {
    const changed = name !== view;
    view = name;
    for (const p of viewPanels) p.hidden = p.dataset.viewPanel !== name;
    for (const a of viewLinks) {
      if (a.dataset.view === name) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    if (changed) VIEWS[name].open();
    if (moveFocus) {
      const heading = byId(VIEWS[name].heading);
      heading.tabIndex = -1;
      heading.focus();
    }
  }

  window.addEventListener('hashchange', () => {
    showView(viewOf(location.hash), viewLinks.some((a) => a.hash === location.hash));
  });
  // The link of the view already shown changes no fragment: it moves the focus all the same.
  for (const a of viewLinks) {
    a.addEventListener('click', () => {
      if (a.hash === location.hash) showView(a.dataset.view, true);
    });
  }
  showView(viewOf(location.hash), false);

  refreshNow();
})();
