/* kgpath studio: one page, hash routes (#/map, #/concept/KEY, #/plan,
 * #/suggest, #/import), data only from the server's /v1/ API with the
 * user's bearer token (kept in sessionStorage; ?token=... on first load
 * stores it). No network resources besides the server itself. */
'use strict';

const $ = (sel, root) => (root || document).querySelector(sel);
const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
const main = $('#main');
const state = { courses: null, lang: {} };

/* ---- token and API ---- */

(function takeToken() {
  const u = new URL(location.href);
  const t = u.searchParams.get('token');
  if (t) {
    sessionStorage.setItem('kgpath-token', t);
    u.searchParams.delete('token');
    history.replaceState(null, '', u.pathname + u.search + u.hash);
  }
})();

function token() { return sessionStorage.getItem('kgpath-token') || ''; }

$('#token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem('kgpath-token', $('#token-input').value.trim());
  $('#token-form').hidden = true;
  state.courses = null;
  route();
});

class ApiError extends Error {
  constructor(status, body) {
    const err = body && body.error ? body.error : {};
    super(err.message || ('HTTP ' + status));
    this.status = status;
    this.body = body;
    this.code = err.code;
    this.where = err.where;
  }
}

async function api(path, opts) {
  opts = opts || {};
  const headers = Object.assign({}, opts.headers || {});
  if (token()) headers['Authorization'] = 'Bearer ' + token();
  let body = opts.body;
  if (opts.json !== undefined) { body = JSON.stringify(opts.json); headers['Content-Type'] = 'application/json'; }
  const r = await fetch(path, { method: opts.method || (body ? 'POST' : 'GET'), headers, body });
  if (r.status === 401 || r.status === 403) $('#token-form').hidden = false;
  const type = r.headers.get('Content-Type') || '';
  if (!r.ok) {
    let b = null;
    try { b = type.includes('json') ? await r.json() : null; } catch (_) { /* not JSON */ }
    throw new ApiError(r.status, b);
  }
  if (opts.raw) return r;
  return type.includes('json') ? r.json() : r.text();
}

function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) v.forEach((x) => u.append(k, x));
    else if (v !== undefined && v !== null && v !== '' && v !== false) u.append(k, v === true ? '1' : v);
  }
  const s = u.toString();
  return s ? '?' + s : '';
}

function status(msg, isError) {
  const s = $('#status');
  s.textContent = msg || '';
  s.className = msg ? 'show' + (isError ? ' error' : '') : '';
}

function fail(e) {
  status((e.status ? e.status + ': ' : '') + e.message + (e.where ? ' (' + e.where + ')' : ''), true);
}

/* Small DOM builder: h('div.card', {attrs}, children...). */
function h(tag, attrs, ...kids) {
  const m = tag.split('.');
  const el = document.createElement(m[0]);
  if (m.length > 1) el.className = m.slice(1).join(' ');
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined && k !== false)
    el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return el;
}

/* Courses with language and units (cached until a write). */
async function courses() {
  if (!state.courses) {
    const r = await api('/v1/studio/courses');
    state.courses = r.courses;
    for (const c of r.courses) state.lang[c.id] = c.language || '';
  }
  return state.courses;
}

/* lang of a concept key "course:id". */
function langOf(key) { return state.lang[String(key).split(':')[0]] || ''; }

function conceptLink(ref) {
  const a = h('a', { href: '#/concept/' + encodeURIComponent(ref.id), lang: langOf(ref.id) || null }, ref.title || ref.id);
  return h('span', {}, a, ' ', h('code', {}, ref.id));
}

/* ---- router ---- */

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, q] = raw.split('?');
  const parts = path.split('/').map(decodeURIComponent);
  return { page: parts[0] || 'map', arg: parts.slice(1).join('/'), params: new URLSearchParams(q || '') };
}

async function route() {
  const r = parseHash();
  status('');
  $$('header nav a').forEach((a) => a.classList.toggle('active', a.dataset.nav === r.page ||
    (r.page === 'concept' && a.dataset.nav === 'map')));
  main.replaceChildren();
  delete main.dataset.ready;
  main.dataset.page = r.page;
  try {
    await courses();
    const pages = { map: pageMap, concept: pageConcept, plan: pagePlan, suggest: pageSuggest, import: pageImport };
    await (pages[r.page] || pageMap)(r);
  } catch (e) {
    fail(e);
  }
  main.dataset.ready = r.page;
}
window.addEventListener('hashchange', route);

/* ---- curriculum map ---- */

async function pageMap(r) {
  const p = r.params;
  const course = p.get('course') || '', unit = p.get('unit') || '', tag = p.get('tag') || '';
  const findings = p.get('findings') !== '0';
  const cs = state.courses;
  const sel = (name, opts, value) => h('select', { name }, opts.map(([v, t]) => h('option', { value: v, selected: v === value }, t)));
  const cur = cs.find((c) => c.id === course);
  const form = h('form.toolbar', { id: 'map-filters' },
    h('label', {}, 'Course', sel('course', [['', 'All courses']].concat(cs.map((c) => [c.id, c.title || c.id])), course)),
    h('label', {}, 'Unit', sel('unit', [['', cur ? 'All units' : '(choose a course)']].concat(
      cur ? cur.units.map((u) => [u.id, u.title || u.id]) : []), unit)),
    h('label', {}, 'Tag', h('input', { type: 'search', name: 'tag', value: tag, placeholder: 'any tag', size: 12 })),
    h('label', {}, h('input', { type: 'checkbox', name: 'findings', checked: findings }), 'Show check findings'),
    h('label', {}, 'Find', h('input', { type: 'search', name: 'find', id: 'map-find', placeholder: 'title…', size: 14 })),
    h('span.findings', { id: 'map-count' }));
  form.addEventListener('change', (e) => {
    if (e.target.name === 'find') return;
    const f = new FormData(form);
    if (e.target.name === 'course') f.set('unit', '');
    location.hash = '#/map' + qs({ course: f.get('course'), unit: f.get('unit'), tag: f.get('tag'),
      findings: f.get('findings') ? null : '0' });
  });
  form.addEventListener('submit', (e) => e.preventDefault());
  const view = h('div.map', { id: 'map', tabindex: 0, 'aria-label': 'curriculum map' });
  const wrap = h('div.map-wrap', {}, view,
    h('div.map-controls', {},
      h('button.ghost', { type: 'button', title: 'Zoom in', onclick: () => zoom(view, 1 / 1.25) }, '+'),
      h('button.ghost', { type: 'button', title: 'Zoom out', onclick: () => zoom(view, 1.25) }, '−'),
      h('button.ghost', { type: 'button', title: 'Fit', onclick: () => fit(view) }, '⤢')),
    h('div.legend', {},
      h('span.cycle', {}, h('i'), 'on a cycle'), h('span.redundant', {}, h('i'), 'redundant edge'),
      h('span.bottleneck', {}, h('i'), 'bottleneck'), h('span.group', {}, h('i'), 'k of n group'),
      h('span.external', {}, h('i'), 'outside the filter')));
  main.append(h('h1', {}, 'Curriculum map'),
    h('p.sub', {}, 'Concepts and their prerequisites, laid out by Graphviz. Drag to pan, wheel to zoom, click a concept to open it.'),
    form, wrap);
  if (cur && cur.language) wrap.setAttribute('lang', cur.language);
  status('Laying out the map…');
  const svgText = await api('/v1/map.svg' + qs({ course, unit, tag, findings: findings ? '1' : '0' }));
  status('');
  const doc = new DOMParser().parseFromString(svgText, 'image/svg+xml');
  const svg = document.importNode(doc.documentElement, true);
  svg.removeAttribute('width');
  svg.removeAttribute('height');
  view.append(svg);
  const nodes = $$('g.concept', svg);
  for (const g of nodes) {
    const key = g.id.slice(2);
    if (langOf(key)) g.setAttribute('lang', langOf(key));
    g.setAttribute('tabindex', '0');
    g.setAttribute('role', 'link');
  }
  $('#map-count').textContent = nodes.length + ' concepts, ' + $$('g.edge', svg).length + ' edges';
  enablePanZoom(view, svg);
  const open = (g) => { location.hash = '#/concept/' + encodeURIComponent(g.id.slice(2)); };
  svg.addEventListener('click', (e) => {
    if (view.dataset.moved === '1') return;
    const g = e.target.closest('g.concept');
    if (g) open(g);
  });
  svg.addEventListener('keydown', (e) => {
    const g = e.target.closest && e.target.closest('g.concept');
    if (g && e.key === 'Enter') open(g);
  });
  $('#map-find').addEventListener('input', (e) => {
    const q = e.target.value.trim().toLowerCase();
    view.classList.toggle('filtered', !!q);
    for (const g of nodes) {
      const text = (g.textContent || '').toLowerCase();
      g.classList.toggle('match', !!q && text.includes(q));
    }
  });
}

function viewBox(svg) { return svg.viewBox.baseVal; }

function enablePanZoom(view, svg) {
  const vb = viewBox(svg);
  view.home = [vb.x, vb.y, vb.width, vb.height];
  let drag = null;
  view.addEventListener('pointerdown', (e) => {
    drag = { x: e.clientX, y: e.clientY, vx: vb.x, vy: vb.y };
    view.dataset.moved = '0';
  });
  view.addEventListener('pointermove', (e) => {
    if (!drag) return;
    const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 4) { view.dataset.moved = '1'; view.classList.add('dragging'); view.setPointerCapture(e.pointerId); }
    const s = scale(view, svg);
    vb.x = drag.vx - dx * s;
    vb.y = drag.vy - dy * s;
  });
  const end = () => { drag = null; view.classList.remove('dragging'); };
  view.addEventListener('pointerup', end);
  view.addEventListener('pointercancel', end);
  view.addEventListener('wheel', (e) => {
    e.preventDefault();
    const r = view.getBoundingClientRect();
    zoom(view, e.deltaY > 0 ? 1.15 : 1 / 1.15, (e.clientX - r.left) / r.width, (e.clientY - r.top) / r.height);
  }, { passive: false });
}

/* SVG units per screen pixel (preserveAspectRatio meet). */
function scale(view, svg) {
  const vb = viewBox(svg), r = view.getBoundingClientRect();
  return Math.max(vb.width / r.width, vb.height / r.height);
}

function zoom(view, f, fx, fy) {
  const svg = $('svg', view);
  if (!svg) return;
  const vb = viewBox(svg);
  fx = fx === undefined ? 0.5 : fx; fy = fy === undefined ? 0.5 : fy;
  const w = vb.width * f, hgt = vb.height * f;
  vb.x += (vb.width - w) * fx;
  vb.y += (vb.height - hgt) * fy;
  vb.width = w;
  vb.height = hgt;
}

function fit(view) {
  const svg = $('svg', view);
  if (!svg || !view.home) return;
  const vb = viewBox(svg);
  [vb.x, vb.y, vb.width, vb.height] = view.home;
}

/* ---- concept page ---- */

async function pageConcept(r) {
  const key = r.arg;
  const c = await api('/v1/concepts/' + encodeURIComponent(key));
  const lang = langOf(c.id);
  const box = h('div.grow', { lang: lang || null });
  main.append(h('p', {}, h('a', { href: '#/map' + qs({ course: c.course }) }, '← ' + (c.course_title || c.course))),
    h('div.row', {}, box, h('div.grow', { id: 'concept-side' })));
  box.append(h('h1', { id: 'concept-title' }, c.title), h('code', {}, c.id),
    h('div.facts', {},
      h('span', {}, 'Time ', h('b', {}, c.minutes != null ? Math.round(c.minutes) + ' min' : 'unknown'),
        c.own_minutes != null && c.own_minutes !== c.minutes ? ' (own estimate ' + Math.round(c.own_minutes) + ' min + resources)' : ''),
      c.unit ? h('span', {}, 'Unit ', h('b', {}, c.unit_title || c.unit)) : null,
      c.difficulty != null && c.difficulty > 0 ? h('span', {}, 'Difficulty ', h('b', {}, c.difficulty)) : null),
    h('div', {}, (c.tags || []).map((t) => h('a.pill', { href: '#/map' + qs({ tag: t }) }, t))));
  const card = h('div.card');
  if (c.summary) card.append(h('p', {}, h('b', {}, c.summary)));
  if (c.description) card.append(h('p', {}, c.description));
  if (c.goals && c.goals.length) card.append(h('h2', {}, 'Learning goals'), h('ul', {}, c.goals.map((g) => h('li', {}, g))));
  if (c.resources && c.resources.length)
    card.append(h('h2', {}, 'Resources'), h('ul', {}, c.resources.map((x) => h('li', {},
      x.url ? h('a', { href: x.url, rel: 'noopener noreferrer', target: '_blank' }, x.title || x.url) : (x.title || ''),
      x.kind ? ' · ' + x.kind : '', x.minutes != null ? ' · ' + x.minutes + ' min' : ''))));
  if (!card.childNodes.length) card.append(h('p.empty', {}, 'No text.'));
  box.append(card, h('p.links', {},
    h('a', { href: '#/plan' + qs({ goal: c.id }), id: 'plan-this' }, 'Plan to learn this →'),
    h('a', { href: '#/map' + qs({ course: c.course, unit: c.unit || '' }) }, 'Show its unit on the map')));

  const side = $('#concept-side');
  /* prerequisites: groups, "k of n" when not all are needed */
  const pre = h('ul.edges', { id: 'prerequisites' });
  for (const g of c.requires || []) {
    const need = g.k < g.of.length ? h('div.group-head', {}, 'any ' + g.k + ' of these ' + g.of.length) : null;
    if (need) pre.append(h('li', {}, need, g.reason ? h('span.reason', {}, g.reason) : null,
      h('ul.edges', {}, g.of.map((m) => h('li', {}, m.resolved ? conceptLink(m) : h('code', {}, m.id + ' (not imported)'),
        m.reason ? h('span.reason', {}, m.reason) : null)))));
    else for (const m of g.of) pre.append(h('li', {}, m.resolved ? conceptLink(m) : h('code', {}, m.id + ' (not imported)'),
      h('span.reason', {}, m.reason || g.reason || '')));
  }
  for (const m of c.recommends || []) pre.append(h('li', {}, conceptLink(m), ' ', h('span.pill', {}, 'recommended'),
    m.reason ? h('span.reason', {}, m.reason) : null));
  if (!pre.childNodes.length) pre.append(h('li.empty', {}, 'None: a starting point.'));
  /* dependents: their reason is on their side of the edge */
  const dep = h('ul.edges', { id: 'dependents' });
  const deps = (c.dependents || []).concat((c.recommended_by || []).map((d) => Object.assign({ rec: true }, d)));
  const full = await Promise.all(deps.map((d) => api('/v1/concepts/' + encodeURIComponent(d.id)).catch(() => null)));
  deps.forEach((d, i) => {
    let why = '';
    const o = full[i];
    if (o) {
      for (const g of o.requires || []) for (const m of g.of) if (m.id === c.id) why = m.reason || g.reason || '';
      for (const m of o.recommends || []) if (m.id === c.id) why = why || m.reason || '';
    }
    dep.append(h('li', {}, conceptLink(d), d.rec ? h('span.pill', {}, 'recommended') : null, why ? h('span.reason', {}, why) : null));
  });
  if (!deps.length) dep.append(h('li.empty', {}, 'Nothing depends on it yet.'));
  side.append(h('div.card', {}, h('h2', { style: 'margin-top:0' }, 'Prerequisites'), pre),
    h('div.card', { style: 'margin-top:12px' }, h('h2', { style: 'margin-top:0' }, 'Needed by'), dep));
  /* suggestions that involve it (need a model on the server) */
  const sug = h('div.card', { style: 'margin-top:12px', id: 'concept-suggestions' }, h('h2', { style: 'margin-top:0' }, 'Suggested edges involving it'));
  side.append(sug);
  try {
    const s = await api('/v1/suggestions' + qs({ concept: c.id, top: 10 }));
    if (!s.suggestions.length) sug.append(h('p.empty', {}, 'No suggestions for this concept.'));
    else sug.append(suggestionTable(s.suggestions, s.model));
  } catch (e) {
    sug.append(h('p.empty', {}, e.status === 503 || e.status === 404 ? 'No model configured on the server.' : e.message));
  }
}

/* ---- plan builder ---- */

function picker(name, label, initial) {
  const chosen = new Map();
  const chips = h('div.chips');
  const input = h('input', { type: 'search', placeholder: 'search concepts by title…', id: name + '-search', autocomplete: 'off' });
  const list = h('ul.results', { hidden: true });
  const el = h('div.picker', { 'data-name': name }, chips, input, list);
  const draw = () => chips.replaceChildren(...[...chosen.values()].map((c) =>
    h('span.chip', { 'data-id': c.id, lang: langOf(c.id) || null }, c.title,
      h('button', { type: 'button', title: 'remove', onclick: () => { chosen.delete(c.id); draw(); } }, '×'))));
  el.add = (c) => { chosen.set(c.id, c); draw(); };
  el.values = () => [...chosen.keys()];
  let timer = null, seq = 0;
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = input.value.trim();
      const mine = ++seq;
      if (!q) { list.hidden = true; return; }
      try {
        const r = await api('/v1/concepts' + qs({ q, limit: 12 }));
        if (mine !== seq) return;
        list.replaceChildren(...r.concepts.map((c) => h('li', { 'data-id': c.id, lang: langOf(c.id) || null,
          onmousedown: (e) => { e.preventDefault(); el.add(c); input.value = ''; list.hidden = true; } },
          c.title, ' ', h('code', {}, c.id))));
        list.hidden = !r.concepts.length;
      } catch (e) { fail(e); }
    }, 150);
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') { e.preventDefault(); const f = $('li', list); if (f && !list.hidden) f.dispatchEvent(new MouseEvent('mousedown')); }
  });
  input.addEventListener('blur', () => setTimeout(() => { list.hidden = true; }, 150));
  for (const c of initial || []) el.add(c);
  return el;
}

async function pagePlan(r) {
  const p = r.params;
  const initial = [];
  for (const g of p.getAll('goal')) {
    try { const c = await api('/v1/concepts/' + encodeURIComponent(g)); initial.push({ id: c.id, title: c.title }); }
    catch (e) { fail(e); }
  }
  const goals = picker('goals', 'Goals', initial);
  const known = picker('known', 'Known concepts', []);
  const today = new Date().toISOString().slice(0, 10);
  const form = h('form.plan.card', { id: 'plan-form' },
    h('label', {}, 'Goals'), goals,
    h('label', {}, 'Already known'), known,
    h('label', { for: 'learner' }, 'Or a learner'), h('input', { type: 'text', id: 'learner', name: 'learner', placeholder: 'learner id (uses their recorded progress)' }),
    h('label', { for: 'mpd' }, 'Minutes per day'), h('input', { type: 'number', id: 'mpd', name: 'minutes_per_day', min: 0, max: 1440, value: 60 }),
    h('label', { for: 'dpw' }, 'Days per week'), h('input', { type: 'number', id: 'dpw', name: 'days_per_week', min: 1, max: 7, value: 5 }),
    h('label', { for: 'start' }, 'Start date'), h('input', { type: 'date', id: 'start', name: 'start', value: today }),
    h('label', { for: 'deadline' }, 'Deadline'), h('input', { type: 'date', id: 'deadline', name: 'deadline' }),
    h('label', {}, 'Options'), h('div', {},
      h('label', {}, h('input', { type: 'checkbox', name: 'include_recommended' }), ' include recommended concepts')),
    h('div.wide', {}, h('button', { type: 'submit', id: 'make-plan' }, 'Make the plan')));
  const out = h('div', { id: 'plan-out' });
  main.append(h('h1', {}, 'Plan builder'), h('p.sub', {}, 'Choose goals and what the learner knows; the plan is the same page as `kgpath plan --format html`.'),
    h('div.row', {}, h('div', { style: 'flex:0 1 560px' }, form), h('div.grow', {}, out)));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const params = { goal: goals.values(), known: known.values(), learner: f.get('learner'),
      minutes_per_day: f.get('minutes_per_day') > 0 ? f.get('minutes_per_day') : null,
      days_per_week: f.get('minutes_per_day') > 0 ? f.get('days_per_week') : null,
      start: f.get('minutes_per_day') > 0 ? f.get('start') : null, deadline: f.get('deadline'),
      include_recommended: !!f.get('include_recommended') };
    if (!params.goal.length) { status('Choose at least one goal.', true); return; }
    status('Planning…');
    try {
      const html = await api('/v1/plan' + qs(Object.assign({ format: 'html' }, params)));
      status('');
      const jsonUrl = '/v1/plan' + qs(Object.assign({ format: 'json' }, params));
      const frame = h('iframe.plan-view', { id: 'plan-frame', title: 'study plan', sandbox: 'allow-same-origin' });
      frame.srcdoc = html;
      out.replaceChildren(h('div.links', {},
        h('a', { href: '#', id: 'plan-json', onclick: (ev) => { ev.preventDefault(); openJson(jsonUrl); } }, 'Plan as JSON'),
        h('a', { href: '#/plan', onclick: (ev) => { ev.preventDefault(); out.replaceChildren(); } }, 'Clear')), frame);
    } catch (err) { out.replaceChildren(); fail(err); }
  });
}

/* The API needs the token header, so JSON is fetched and shown in a new tab. */
async function openJson(url) {
  try {
    const j = await api(url);
    const blob = new Blob([JSON.stringify(j, null, 2)], { type: 'application/json' });
    window.open(URL.createObjectURL(blob), '_blank');
  } catch (e) { fail(e); }
}

/* ---- suggestion review ---- */

function suggestionTable(list, model) {
  const max = Math.max(...list.map((s) => s.score), 0.0001);
  const rows = list.map((s) => {
    const verdict = h('span.verdict');
    const act = (what) => async (e) => {
      const tr = e.target.closest('tr');
      $$('button', tr).forEach((b) => { b.disabled = true; });
      try {
        const body = { model: model || undefined, pairs: [{ prerequisite: s.prerequisite.id, concept: s.concept.id, score: s.score }] };
        const res = await api('/v1/suggestions/' + what, { json: body });
        verdict.textContent = what === 'accept' ? 'accepted' : 'rejected';
        verdict.className = 'verdict ' + verdict.textContent;
        tr.classList.add('done');
        tr.dataset.verdict = verdict.textContent;
        state.courses = null;
        status(what === 'accept' ? 'Added as a recommended edge: ' + (res.count || 0) + '.' : 'Rejected; it will not be proposed again.');
      } catch (err) { $$('button', tr).forEach((b) => { b.disabled = false; }); fail(err); }
    };
    return h('tr', { 'data-prereq': s.prerequisite.id, 'data-concept': s.concept.id },
      h('td', { lang: langOf(s.prerequisite.id) || null }, conceptLink(s.prerequisite)),
      h('td', { lang: langOf(s.concept.id) || null }, conceptLink(s.concept)),
      h('td', {}, h('span.score', {}, s.score.toFixed(2)), h('span.bar', { style: 'width:' + Math.round(50 * s.score / max) + 'px' })),
      h('td', {}, s.evidence ? h('span', {}, 'like ', conceptLink(s.evidence), ' (similarity ' + s.evidence_sim.toFixed(2) + ')') : h('span.empty', {}, 'no current prerequisite'),
        s.mention > 0 ? h('span.reason', {}, 'named in its text (' + Math.round(100 * s.mention) + '%)') : null),
      h('td.actions', {}, h('button', { type: 'button', class: 'accept', onclick: act('accept') }, 'Accept'), ' ',
        h('button.danger', { type: 'button', class: 'danger reject', onclick: act('reject') }, 'Reject'), ' ', verdict));
  });
  return h('table.list', { 'data-model': model || '' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Prerequisite'), h('th', {}, 'of concept'), h('th', {}, 'Score'), h('th', {}, 'Evidence'), h('th', {}, ''))),
    h('tbody', {}, rows));
}

async function pageSuggest(r) {
  const course = r.params.get('course') || '';
  const cs = state.courses;
  const pick = h('select', { id: 'suggest-course', onchange: (e) => { location.hash = '#/suggest' + qs({ course: e.target.value }); } },
    [h('option', { value: '' }, 'All courses')].concat(cs.map((c) => h('option', { value: c.id, selected: c.id === course }, c.title || c.id))));
  main.append(h('h1', {}, 'Suggestion review'),
    h('p.sub', {}, 'Prerequisites the model proposes, best first, with the nearest existing edge as evidence. Accepted ones become recommended edges; rejected ones are never proposed again (the same store as `kgpath suggest --accept / --reject-pairs`).'),
    h('div.toolbar', {}, h('label', {}, 'Course', pick)));
  const box = h('div', { id: 'suggestions' });
  const sus = h('div', { id: 'suspicious' });
  main.append(h('h2', {}, 'Suggested prerequisites'), box, h('h2', {}, 'Suspicious prerequisites'),
    h('p.sub', {}, 'Existing edges the model doubts most; "reverse" above the score means it may point the wrong way.'), sus);
  status('Scoring pairs…');
  try {
    const s = await api('/v1/suggestions' + qs({ course, top: 25 }));
    box.append(s.suggestions.length ? suggestionTable(s.suggestions, s.model) : h('p.empty', {}, 'No suggestions.'));
  } catch (e) {
    box.append(h('p.empty', {}, e.message));
  }
  try {
    const s = await api('/v1/suggestions/suspicious' + qs({ course, top: 10 }));
    sus.append(s.suspicious.length ? h('table.list', {},
      h('thead', {}, h('tr', {}, h('th', {}, 'Prerequisite'), h('th', {}, 'of concept'), h('th', {}, 'Score'), h('th', {}, 'Reverse'))),
      h('tbody', {}, s.suspicious.map((x) => h('tr', {}, h('td', {}, conceptLink(x.prerequisite)), h('td', {}, conceptLink(x.concept)),
        h('td.score', {}, x.score.toFixed(2)), h('td.score', {}, x.reverse.toFixed(2), x.reverse > x.score ? ' ⚠' : '')))))
      : h('p.empty', {}, 'None.'));
  } catch (e) {
    sus.append(h('p.empty', {}, e.message));
  }
  status('');
}

/* ---- import ---- */

async function pageImport() {
  const input = h('input', { type: 'file', id: 'import-file', multiple: true });
  const dry = h('input', { type: 'checkbox', id: 'import-dry' });
  const drop = h('div.drop', { id: 'drop' }, h('p', {}, 'Drop a course export here (kgxml, Open edX .tar.gz, SCORM .zip, .imscc, Moodle .mbz, CSV)'),
    h('p', {}, 'or ', input));
  const report = h('div.report', { id: 'import-report' });
  main.append(h('h1', {}, 'Import'), h('p.sub', {}, 'Each file is imported in one transaction: all of it lands, or nothing changes.'),
    h('div.toolbar', {}, h('label', {}, dry, 'Dry run (check only, write nothing)')), drop, report);
  const send = async (files) => {
    for (const f of files) {
      status('Importing ' + f.name + '…');
      try {
        const r = await api('/v1/import' + qs({ filename: f.name, dry_run: dry.checked }),
          { body: f, headers: { 'Content-Type': f.type || 'application/octet-stream' } });
        status('');
        state.courses = null;
        report.prepend(importReport(f.name, r));
      } catch (e) {
        fail(e);
        /* a refused import still comes with its report */
        report.prepend(e.body && e.body.courses ? importReport(f.name, e.body)
          : h('div.card', {}, h('b', {}, f.name), ': ', h('span.diag.error', {}, (e.where ? e.where + ': ' : '') + e.message)));
      }
    }
  };
  input.addEventListener('change', () => send(input.files));
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); send(e.dataTransfer.files); });
}

function importReport(name, r) {
  const card = h('div.card', { style: 'margin-top:12px' }, h('h2', { style: 'margin-top:0' }, name,
    r.committed === false || r.dry_run ? ' (nothing written)' : ''));
  for (const c of r.courses || []) card.append(h('p', {}, h('b', {}, c.title || c.id), ' ', h('code', {}, c.id), ': ',
    [c.concepts + ' concepts', c.edges + ' prerequisite edges', c.recommends + ' recommended',
      c.unresolved ? c.unresolved + ' unresolved' : null, c.replaced ? 'replaced' : 'new', c.unchanged ? 'unchanged' : null]
      .filter(Boolean).join(' · ')));
  const diag = (d, cls) => card.append(h('div.diag' + cls, {},
    (d.file ? d.file + ':' + (d.line || 0) + ':' + (d.column || 0) + ': ' : '') + d.message));
  for (const d of r.errors || []) diag(d, '.error');
  for (const d of r.warnings || []) diag(d, '');
  for (const u of r.unresolved || []) card.append(h('div.diag', {}, u.from + ' ' + (u.recommended ? 'recommends' : 'requires') +
    ' ' + u.target + ': not imported yet'));
  if (!card.querySelector('p')) card.append(h('pre', {}, JSON.stringify(r, null, 2)));
  return card;
}

route();
