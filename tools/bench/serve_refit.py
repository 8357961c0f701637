#!/usr/bin/env python3
"""/healthz and plan latency in `kgpath serve` while a POST /v1/observe
refits the learner models, for one or more kgpath binaries in one run
(e.g. main before the change and after it, side by side).

    tools/bench/serve_refit.py --kgpath OLD --kgpath NEW [--learners 300] [--rounds 3]

Per binary and round: a fresh database with data/samples imported, the
events of tools/sim/fsrs_events.py (--learners x 30 concepts, 180 days)
split 5:1; the first part stored with `observe --no-fit` and fitted
(`kgpath fit`), then the server started (--no-auth, 127.0.0.1, 2 threads)
and the rest POSTed to /v1/observe, which makes a fit due (the events grow
by more than a fifth). While that request runs, one client GETs /healthz
and another a plan, each every --interval seconds (0.01); reported: the observe's wall time
(its refit included), and the slowest and median answer of each client
during it. Prints one line per binary and round, then the medians.
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, threading, time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(cmd, **kw):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)


def get(url, data=None, ctype=None):
    req = urllib.request.Request(url, data=data)
    if ctype:
        req.add_header("Content-Type", ctype)
    t = time.perf_counter()
    with urllib.request.urlopen(req, timeout=600) as r:
        body = r.read()
        status = r.status
    return status, body, time.perf_counter() - t


def one(binary, events, split, tmp, interval):
    db = os.path.join(tmp, "kg.db")
    for f in os.listdir(tmp):
        os.unlink(os.path.join(tmp, f))
    samples = [os.path.join(ROOT, "data/samples", x) for x in ("linalg.xml", "ml-intro.xml")]
    run([binary, "--db", db, "import"] + samples)
    first = os.path.join(tmp, "first.jsonl")
    with open(first, "w") as f:
        f.writelines(events[:split])
    run([binary, "--db", db, "observe", "--no-fit", first])
    run([binary, "--db", db, "fit"])
    port_file = os.path.join(tmp, "port")
    srv = subprocess.Popen([binary, "--db", db, "serve", "--listen", "127.0.0.1:0", "--no-auth",
                            "--port-file", port_file, "--access-log", "none", "--quiet"])
    try:
        while not os.path.exists(port_file):
            time.sleep(0.02)
        base = "http://127.0.0.1:%s" % open(port_file).read().strip()
        paths = {"health": "/healthz",
                 "plan": "/v1/plan?goal=linalg:linear-combinations&known=linalg:vectors"}
        for p in paths.values():                       # warm: the view is built
            get(base + p)
        done = threading.Event()
        lat = {k: [] for k in paths}

        def poll(k):
            while not done.is_set():
                st, _, dt = get(base + paths[k])
                assert st == 200
                lat[k].append(dt)
                time.sleep(interval)

        threads = [threading.Thread(target=poll, args=(k,)) for k in paths]
        body = "".join(events[split:]).encode()
        res = {}

        def post():
            res["status"], res["body"], res["wall"] = get(base + "/v1/observe", body,
                                                          "application/x-ndjson")
            done.set()

        tp = threading.Thread(target=post)
        tp.start()
        for t in threads:
            t.start()
        tp.join()
        for t in threads:
            t.join()
        rep = json.loads(res["body"])
        assert res["status"] == 200 and "refit" in rep, res["body"][:300]
        out = {"observe_s": res["wall"], "refit_events": rep["refit"]["events"]}
        for k, v in lat.items():
            out[k + "_n"] = len(v)
            out[k + "_max_s"] = max(v)
            out[k + "_median_s"] = statistics.median(v)
        return out
    finally:
        srv.terminate()
        srv.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kgpath", action="append", required=True)
    ap.add_argument("--learners", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--interval", type=float, default=0.01)
    a = ap.parse_args()
    ev = subprocess.run([sys.executable, os.path.join(ROOT, "tools/sim/fsrs_events.py"),
                         "--learners", str(a.learners)], check=True, capture_output=True,
                        text=True).stdout.splitlines(keepends=True)
    split = len(ev) * 5 // 6
    print("events %d: %d stored and fitted, %d posted" % (len(ev), split, len(ev) - split))
    rows = {b: [] for b in a.kgpath}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(a.rounds):
            for b in a.kgpath:                         # interleaved: same moment, same load
                o = one(b, ev, split, tmp, a.interval)
                rows[b].append(o)
                print("%s round %d: observe+refit %.2f s on %d events; healthz %d answers, "
                      "max %.3f s, median %.4f s; plan %d answers, max %.3f s, median %.4f s"
                      % (b, r + 1, o["observe_s"], o["refit_events"], o["health_n"],
                         o["health_max_s"], o["health_median_s"], o["plan_n"], o["plan_max_s"],
                         o["plan_median_s"]), flush=True)
    for b, v in rows.items():
        med = lambda k: statistics.median(x[k] for x in v)
        print("%s medians: observe+refit %.2f s; healthz max %.3f s; plan max %.3f s"
              % (b, med("observe_s"), med("health_max_s"), med("plan_max_s")))


if __name__ == "__main__":
    main()
