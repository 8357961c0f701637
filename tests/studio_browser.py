#!/usr/bin/env python3
"""The studio in a real browser: headless Chromium driven through the
DevTools protocol (over --remote-debugging-pipe, Python stdlib only) against
a `kgpath serve` this test starts on a free 127.0.0.1 port.

It clicks through: curriculum map -> a concept -> "Plan to learn this" ->
plan builder (goal search, make the plan) -> suggestion review (accept one)
and checks each page's content, the Chinese course's lang, and that the
accepted suggestion reached the database. Screenshots are kept in
BUILD/studio-screenshots/. Before the browser, the studio's endpoints are
checked over HTTP (contracts and error statuses, a server without a model).
The browser part is skipped (with a message) only when Chromium is missing.
The suggestion step needs the tiny BERT of ../shared to train a model; it
is skipped with a message when ../shared is absent.

Prints a Check-style summary line ("N%: Checks: N, Failures: F, Errors: E")
so tools/test.sh counts its checks.
"""
import base64
import glob
import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

BIN = os.environ.get('KGPATH_BIN')
ROOT = os.environ.get('KGPATH_SOURCE_ROOT', os.path.join(os.path.dirname(__file__), '..'))
SHARED = os.environ.get('KGPATH_SHARED', os.path.join(ROOT, '..', 'shared'))
OUTDIR = os.path.join(os.environ.get('KGPATH_BUILD_ROOT', '.'), 'studio-screenshots')
WAIT = 60.0          # seconds any one page may take to get ready (a guard, not a measurement)

checks = 0
failures = []


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)
        print('FAIL: ' + what, flush=True)
    return cond


class Browser:
    """Chromium over --remote-debugging-pipe: NUL-terminated JSON, we write
    the browser's fd 3 and read its fd 4; one page target, flattened session."""

    def __init__(self, exe, profile):
        to_r, to_w = os.pipe()
        from_r, from_w = os.pipe()

        def child():
            # via fresh copies: dup2 onto the same number would keep CLOEXEC
            a, b = os.dup(to_r), os.dup(from_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [exe, '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--hide-scrollbars',
             '--disable-background-networking', '--disable-component-update', '--disable-sync',
             '--remote-debugging-pipe', '--user-data-dir=' + profile, '--window-size=1440,900',
             '--lang=en-US', 'about:blank'],
            preexec_fn=child, close_fds=False, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_r)
        os.close(from_w)
        self.w = to_w
        self.r = from_r
        self.next_id = 0
        self.replies = {}
        self.events = queue.Queue()
        self.cv = threading.Condition()
        threading.Thread(target=self._reader, daemon=True).start()
        self.session = None
        tid = self.call('Target.createTarget', {'url': 'about:blank'})['targetId']
        self.session = self.call('Target.attachToTarget', {'targetId': tid, 'flatten': True})['sessionId']
        self.call('Page.enable')
        self.call('Runtime.enable')
        self.call('Emulation.setDeviceMetricsOverride',
                  {'width': 1440, 'height': 900, 'deviceScaleFactor': 1, 'mobile': False})

    def _reader(self):
        buf = b''
        while True:
            try:
                chunk = os.read(self.r, 1 << 16)
            except OSError:
                chunk = b''
            if not chunk:
                with self.cv:
                    self.replies[-1] = None
                    self.cv.notify_all()
                return
            buf += chunk
            while b'\0' in buf:
                msg, buf = buf.split(b'\0', 1)
                m = json.loads(msg)
                if 'id' in m:
                    with self.cv:
                        self.replies[m['id']] = m
                        self.cv.notify_all()
                else:
                    self.events.put(m)

    def call(self, method, params=None, timeout=WAIT):
        self.next_id += 1
        mid = self.next_id
        m = {'id': mid, 'method': method, 'params': params or {}}
        if self.session:
            m['sessionId'] = self.session
        os.write(self.w, json.dumps(m).encode() + b'\0')
        deadline = time.time() + timeout
        with self.cv:
            while mid not in self.replies:
                if -1 in self.replies:
                    raise RuntimeError('browser exited')
                left = deadline - time.time()
                if left <= 0:
                    raise TimeoutError(method)
                self.cv.wait(left)
            r = self.replies.pop(mid)
        if 'error' in r:
            raise RuntimeError('%s: %s' % (method, r['error']))
        return r.get('result', {})

    def js(self, expr):
        r = self.call('Runtime.evaluate', {'expression': expr, 'returnByValue': True, 'awaitPromise': True})
        if 'exceptionDetails' in r:
            raise RuntimeError('%s: %s' % (expr[:80], r['exceptionDetails'].get('exception', {}).get('description')))
        return r['result'].get('value')

    def wait(self, expr, what, timeout=WAIT):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                v = self.js('!!(%s)' % expr)
            except RuntimeError:
                v = None
            if v:
                return v
            time.sleep(0.1)
        status = self.js("document.querySelector('#status') ? document.querySelector('#status').textContent : ''")
        raise TimeoutError('%s (page status: %r)' % (what, status))

    def goto(self, url):
        self.call('Page.navigate', {'url': url})

    def click(self, selector):
        """Clicks the centre of the element as a user would (mouse events)."""
        box = self.js("""(() => { const e = document.querySelector(%s); if (!e) return null;
            e.scrollIntoView({block: 'center', inline: 'center'});
            const r = e.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()"""
                      % json.dumps(selector))
        if not box:
            raise RuntimeError('no element ' + selector)
        x, y = box
        for t in ('mouseMoved', 'mousePressed', 'mouseReleased'):
            self.call('Input.dispatchMouseEvent', {'type': t, 'x': x, 'y': y, 'button': 'left', 'clickCount': 1})

    def type(self, selector, text):
        self.js('document.querySelector(%s).focus()' % json.dumps(selector))
        self.call('Input.insertText', {'text': text})

    def shot(self, name):
        data = self.call('Page.captureScreenshot', {'format': 'png'})['data']
        path = os.path.join(OUTDIR, name)
        with open(path, 'wb') as f:
            f.write(base64.b64decode(data))
        return path

    def close(self):
        try:
            self.call('Browser.close', timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def kg(db, *args, env=None, check_rc=True):
    r = subprocess.run([BIN, '--db', db] + list(args), capture_output=True, text=True, env=env)
    if check_rc and r.returncode != 0:
        raise RuntimeError('kgpath %s: exit %d: %s' % (' '.join(args), r.returncode, r.stderr))
    return r.stdout


def train_model(work, db):
    """A small checkpoint from the tiny BERT of ../shared, or None."""
    tiny = os.path.join(SHARED, 'fixtures', 'encoder', 'tiny-bert')
    if not os.path.isdir(tiny):
        return None
    ck = os.path.join(work, 'ck')
    env = dict(os.environ)
    env.pop('KGPATH_CHECKPOINT', None)
    kg(db, 'train', '--model', tiny, '--out', ck, '--steps', '12', '--batch', '8', env=env)
    return ck


def start_server(db, tokens, work, model):
    """kgpath serve on a free 127.0.0.1 port; returns (base URL, process)."""
    portf = os.path.join(work, 'port')
    if os.path.exists(portf):
        os.remove(portf)
    env = dict(os.environ)
    env.pop('KGPATH_CHECKPOINT', None)
    if model:
        env['KGPATH_CHECKPOINT'] = model
    err = open(os.path.join(work, 'server.err'), 'w')
    proc = subprocess.Popen([BIN, '--db', db, 'serve', '--listen', '127.0.0.1:0', '--port-file', portf,
                             '--token-file', tokens, '--access-log', 'none'], env=env,
                            stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.time() + WAIT
    while not (os.path.exists(portf) and open(portf).read().strip()):
        if proc.poll() is not None or time.time() > deadline:
            stop_server(proc)
            raise RuntimeError('server did not start: ' + open(os.path.join(work, 'server.err')).read())
        time.sleep(0.05)
    return 'http://127.0.0.1:%s' % open(portf).read().strip(), proc


def stop_server(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def http(base, path, token):
    """(status, content type, body bytes) of a GET."""
    req = urllib.request.Request(base + path, headers={'Authorization': 'Bearer ' + token} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=WAIT) as r:
            return r.status, r.headers.get('Content-Type', ''), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get('Content-Type', ''), e.read()


def error_code(body):
    try:
        return json.loads(body)['error']['code']
    except (ValueError, KeyError, TypeError):
        return None


def check_endpoints(db, tokens, work, token):
    """The studio's endpoints over HTTP, without a model: contracts and errors."""
    base, proc = start_server(db, tokens, work, None)
    try:
        st, ty, body = http(base, '/v1/map.svg', None)
        check(st == 401, 'map without a token: 401 (%d)' % st)
        st, ty, body = http(base, '/v1/map.svg?course=linalg', token)
        check(st == 200 and ty.startswith('image/svg+xml'), 'map: 200 SVG (%d %s)' % (st, ty))
        root = ET.fromstring(body)
        ns = '{http://www.w3.org/2000/svg}'
        ids = [g.get('id') for g in root.iter(ns + 'g') if 'concept' in (g.get('class') or '').split()]
        st2, _, courses = http(base, '/v1/studio/courses', token)
        cs = {c['id']: c for c in json.loads(courses)['courses']}
        check(len(ids) == cs['linalg']['concepts'] and all(i.startswith('c:linalg:') for i in ids),
              'map of linalg has its %d concepts (%d)' % (cs['linalg']['concepts'], len(ids)))
        check(http(base, '/v1/map.svg?course=linalg', token)[2] == body, 'the same map twice (cache)')
        check(str(cs['python-zh'].get('language', '')).startswith('zh') and cs['python-zh']['units'],
              'courses carry language and units')
        for path, status, code in [('/v1/map.svg?course=nope', 404, 'not_found'),
                                   ('/v1/map.svg?rankdir=XX', 400, 'bad_request'),
                                   ('/v1/map.svg?tag=nothing-has-this', 200, None),
                                   ('/v1/suggestions', 503, 'no_model'),
                                   ('/v1/suggestions/suspicious', 503, 'no_model'),
                                   ('/v1/suggestions?top=0', 400, 'bad_request'),
                                   ('/v1/suggestions?min_score=2', 400, 'bad_request'),
                                   ('/v1/suggestions/suspicious?top=x', 400, 'bad_request')]:
            st, ty, body = http(base, path, token)
            check(st == status and (code is None or error_code(body) == code),
                  '%s: %d %s (got %d %s)' % (path, status, code, st, error_code(body)))
    finally:
        stop_server(proc)


def main():
    if not BIN:
        print('KGPATH_BIN not set')
        return 1
    exe = shutil.which('chromium') or shutil.which('chromium-browser')
    os.makedirs(OUTDIR, exist_ok=True)
    for old in glob.glob(os.path.join(OUTDIR, '*.png')):
        os.remove(old)
    work = tempfile.mkdtemp(prefix='kgpath-studio-')
    server = browser = None
    try:
        db = os.path.join(work, 'k.db')
        samples = sorted(glob.glob(os.path.join(ROOT, 'data', 'samples', '*.xml')))
        kg(db, 'import', *samples)
        token = 'studio-test-' + os.urandom(8).hex()
        tf = os.path.join(work, 'tokens')
        with open(tf, 'w') as f:
            f.write('%s admin studio-test\n' % token)
        os.chmod(tf, 0o600)
        check_endpoints(db, tf, work, token)
        if not exe:
            print('skipped: the browser part: chromium not installed (Debian package chromium)')
            return finish()
        model = train_model(work, db)
        if not model:
            print('note: ../shared/fixtures/encoder/tiny-bert absent: the suggestion step is skipped')
        base, server = start_server(db, tf, work, model)

        def get(path):
            req = urllib.request.Request(base + path, headers={'Authorization': 'Bearer ' + token})
            with urllib.request.urlopen(req, timeout=WAIT) as r:
                return json.loads(r.read())

        nconcepts = sum(c['concepts'] for c in get('/v1/studio/courses')['courses'])
        browser = Browser(exe, os.path.join(work, 'profile'))
        b = browser

        # 1. the map: every concept drawn, clickable
        b.goto(base + '/studio/?token=' + token + '#/map')
        b.wait("document.querySelector('main').dataset.ready === 'map' && document.querySelector('#map svg')", 'map page')
        n = b.js("document.querySelectorAll('#map g.concept').length")
        check(n == nconcepts, 'map shows %s concepts, the database has %d' % (n, nconcepts))
        check(b.js("document.querySelectorAll('#map g.group').length") >= 3, 'map draws k-of-n groups')
        check(b.js("document.querySelectorAll('#map g.bottleneck').length") >= 1, 'map highlights bottlenecks')
        check(b.js("location.search") == '', 'token taken out of the address bar')
        lang = b.js("document.querySelector('#map g[id=\"c:python-zh:variables\"]').getAttribute('lang')")
        check(str(lang).startswith('zh'), 'Chinese concepts carry lang="zh…" (%r)' % lang)
        b.shot('1-map.png')
        # zoom in with the wheel, then click a concept
        vb0 = b.js("document.querySelector('#map svg').viewBox.baseVal.width")
        b.call('Input.dispatchMouseEvent', {'type': 'mouseWheel', 'x': 700, 'y': 500, 'deltaX': 0, 'deltaY': -400})
        b.wait("document.querySelector('#map svg').viewBox.baseVal.width < %f" % vb0, 'wheel zooms in')
        b.click('.map-controls button[title=Fit]')
        b.click('#map g[id="c:ml-intro:gradient-descent"]')

        # 2. the concept page
        b.wait("document.querySelector('main').dataset.ready === 'concept'", 'concept page')
        check(b.js("document.querySelector('#concept-title').textContent") == 'Gradient descent',
              'click on the map opened Gradient descent')
        pre = b.js("Array.from(document.querySelectorAll('#prerequisites > li')).map(l => l.textContent)")
        check(len(pre) >= 1 and any('Derivatives' in p or 'derivative' in p.lower() for p in pre),
              'prerequisites listed: %r' % pre[:3])
        check(b.js("document.querySelectorAll('#prerequisites .reason').length") >= 1, 'prerequisites carry reasons')
        check(b.js("document.querySelectorAll('#dependents > li a').length") >= 1, 'dependents listed')
        check(b.js("document.querySelectorAll('#dependents .reason').length") >= 1, 'dependents carry reasons')
        b.wait("document.querySelector('#concept-suggestions table, #concept-suggestions p')", 'concept suggestions')
        b.shot('2-concept.png')

        # Chinese concept page: lang from the course language
        b.goto(base + '/studio/#/concept/python-zh%3Avariables')
        b.wait("document.querySelector('main').dataset.ready === 'concept' && "
               "document.querySelector('#concept-title').textContent === '变量与赋值'", 'Chinese concept page')
        lang = b.js("document.querySelector('#concept-title').closest('[lang]').getAttribute('lang')")
        check(str(lang).startswith('zh'), 'Chinese concept page has lang="zh…" (%r)' % lang)
        b.shot('2b-concept-zh.png')
        b.goto(base + '/studio/#/concept/ml-intro%3Agradient-descent')
        b.wait("document.querySelector('main').dataset.ready === 'concept' && "
               "document.querySelector('#concept-title').textContent === 'Gradient descent'", 'concept page again')

        # 3. plan builder from "Plan to learn this", plus a goal found by title
        b.click('#plan-this')
        b.wait("document.querySelector('main').dataset.ready === 'plan'", 'plan builder')
        check(b.js("Array.from(document.querySelectorAll('[data-name=goals] .chip')).map(c => c.dataset.id)")
              == ['ml-intro:gradient-descent'], 'the concept is the preset goal')
        b.type('#goals-search', 'Linear regression')
        b.wait("document.querySelector('[data-name=goals] .results li')", 'title search finds concepts')
        b.click('[data-name=goals] .results li')
        goals = b.js("Array.from(document.querySelectorAll('[data-name=goals] .chip')).map(c => c.dataset.id)")
        check(len(goals) == 2 and 'ml-intro:linear-regression' in goals, 'goal picked by title search: %r' % goals)
        b.js("document.querySelector('#start').value = '2026-12-01'")
        b.click('#make-plan')
        b.wait("document.querySelector('#plan-frame') && document.querySelector('#plan-frame').contentDocument && "
               "document.querySelector('#plan-frame').contentDocument.querySelector('#nsteps')", 'plan shown')
        nsteps = b.js("+document.querySelector('#plan-frame').contentDocument.querySelector('#nsteps').textContent")
        plan = get('/v1/plan?format=json&goal=ml-intro:gradient-descent&goal=ml-intro:linear-regression'
                   '&minutes_per_day=60&days_per_week=5&start=2026-12-01')
        check(nsteps == len(plan['steps']), 'plan page shows %s steps, the JSON plan has %d' % (nsteps, len(plan['steps'])))
        check(b.js("document.querySelector('#plan-frame').contentDocument.querySelectorAll('section.day').length") >= 2,
              'plan is packed into days')
        check(b.js("!!document.querySelector('#plan-json')"), 'plan links to its JSON')
        b.shot('3-plan.png')

        # 4. suggestion review: accept the best one
        if model:
            b.click('header nav a[data-nav=suggest]')
            b.wait("document.querySelector('main').dataset.ready === 'suggest'", 'suggestion page', timeout=180)
            rows = b.js("document.querySelectorAll('#suggestions tbody tr').length")
            check(rows >= 1, 'suggestions listed (%s)' % rows)
            check(b.js("document.querySelectorAll('#suspicious tbody tr').length") >= 1, 'suspicious edges listed')
            if rows:
                pre, con = b.js("(() => { const r = document.querySelector('#suggestions tbody tr');"
                                " return [r.dataset.prereq, r.dataset.concept]; })()")
                b.shot('4-suggestions.png')
                b.click('#suggestions tbody tr button.accept')
                b.wait("document.querySelector('#suggestions tbody tr').dataset.verdict === 'accepted'", 'accept done')
                c = get('/v1/concepts/' + urllib.parse.quote(con, safe=''))
                check(any(r['id'] == pre for r in c.get('recommends', [])),
                      'accepted %s -> %s is a recommended edge now' % (pre, con))
                b.shot('5-accepted.png')
        else:
            print('skipped: suggestion accept (no model without ../shared)')

        # 5. import through the file input: a broken file (nothing lands, the
        # error names file:line:column), then a good one (its report, its course)
        b.click('header nav a[data-nav=import]')
        b.wait("document.querySelector('main').dataset.ready === 'import'", 'import page')
        broken = os.path.join(work, 'broken.xml')
        with open(broken, 'w') as f:
            f.write('<course xmlns="https://kgpath.org/ns/course/1" id="broken"><concept id="a"><title>A</title></course>')
        good = os.path.join(work, 'extra.xml')
        with open(good, 'w') as f:
            f.write('<?xml version="1.0" encoding="UTF-8"?>\n<course xmlns="https://kgpath.org/ns/course/1" id="extra" '
                    'xml:lang="en" version="1"><title>Extra</title><concept id="a" minutes="10"><title>Extra A</title>'
                    '</concept><concept id="b" minutes="10"><title>Extra B</title><prerequisites><require ref="a"/>'
                    '</prerequisites></concept></course>\n')
        node = b.call('DOM.querySelector', {'nodeId': b.call('DOM.getDocument')['root']['nodeId'],
                                            'selector': '#import-file'})['nodeId']
        b.call('DOM.setFileInputFiles', {'nodeId': node, 'files': [broken]})
        b.wait("document.querySelectorAll('#import-report .card').length >= 1", 'report of the broken file')
        txt = b.js("document.querySelector('#import-report .card').innerText")
        check('broken.xml:1:' in txt, "the broken file's error names file:line:column (%r)" % txt)
        b.call('DOM.setFileInputFiles', {'nodeId': node, 'files': [good]})
        b.wait("document.querySelectorAll('#import-report .card').length >= 2", 'report of the good file')
        txt = b.js("document.querySelector('#import-report .card').innerText")
        check('2 concepts' in txt and '1 prerequisite edges' in txt, 'import report shown (%r)' % txt)
        ids = [c['id'] for c in get('/v1/studio/courses')['courses']]
        check('extra' in ids and 'broken' not in ids, 'the good course landed, the broken one did not (%r)' % ids)
        b.shot('6-import.png')
    except Exception as e:  # a step that could not run is a failure, not a skip
        failures.append('error: %s' % e)
        print('ERROR: %s' % e, flush=True)
        if browser:
            try:
                browser.shot('error.png')
            except Exception:
                pass
    finally:
        if browser:
            browser.close()
        if server:
            stop_server(server)
        shutil.rmtree(work, ignore_errors=True)
    return finish()


def finish():
    total = max(checks, 1)
    pct = 100 * (total - len(failures)) // total
    print('%d%%: Checks: %d, Failures: %d, Errors: 0' % (pct, total, len(failures)))
    print('screenshots: ' + OUTDIR)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
