#!/usr/bin/env python3
"""How fast the web console shows real data in headless Chromium.

Starts `dockwatch serve` on a fresh SQLite data dir, writes EVENTS activity-log events through the
API, signs in through the console's form with chromedriver (WebDriver over HTTP), then measures,
in the browser's own clock (performance.now() since the navigation started), how long each page
takes to show its data: the activity log (first page of 50, then 1000 in one page), "Load more",
and the member list. Every figure is the median of RUNS fresh page loads.

Usage: python3 bench/console-chromium.py [events=2000] [runs=5]   (from the repository root;
BIN=target/release/dockwatch to use a release build; needs chromium and chromium-driver)
"""
import json, os, socket, statistics, subprocess, sys, tempfile, time, urllib.request

EVENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
BIN = os.environ.get("BIN", "target/debug/dockwatch")
TOKEN, PASSWORD = "bench-console-token-secret", "bench-console-password"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(method, url, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(req) as r:
            text = r.read()
    except urllib.error.HTTPError as e:
        raise SystemExit(f"{method} {url}: {e.code} {e.read()[:300]!r}")
    return json.loads(text) if text else None


def wait(probe, what, timeout=60):
    start = time.time()
    while time.time() - start < timeout:
        try:
            v = probe()
            if v:
                return v
        except Exception:
            pass
        time.sleep(0.01)
    raise SystemExit(f"timed out waiting for {what}")


def main():
    work = tempfile.mkdtemp()
    port, dport = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, DOCKWATCH_BOOTSTRAP_TOKEN=TOKEN)
    serve = subprocess.Popen([BIN, "-q", "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", f"{work}/data"],
                             env=env, stderr=subprocess.DEVNULL)
    driver = subprocess.Popen(["chromedriver", f"--port={dport}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait(lambda: call("GET", f"{base}/readyz"), "serve")
        auth = {"authorization": f"Bearer {TOKEN}"}
        call("PUT", f"{base}/api/v1/user/password", {"password": PASSWORD}, auth)
        started = time.time()
        for i in range(EVENTS):  # each repository update is one event
            call("PATCH", f"{base}/api/v1/orgs/default/repositories/bench", {"description": f"v{i}"}, auth) if i else \
                call("POST", f"{base}/api/v1/orgs/default/repositories", {"name": "bench"}, auth)
        print(f"wrote {EVENTS} events through the API in {time.time() - started:.1f} s")

        wd = f"http://127.0.0.1:{dport}"
        wait(lambda: call("GET", f"{wd}/status")["value"]["ready"], "chromedriver")
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     f"--user-data-dir={work}/profile", "--window-size=1400,1000"]}}}}
        session = call("POST", f"{wd}/session", caps)["value"]["sessionId"]
        s = f"{wd}/session/{session}"
        js = lambda script: call("POST", f"{s}/execute/sync", {"script": script, "args": []})["value"]

        def find(css):
            return list(call("POST", f"{s}/element", {"using": "css selector", "value": css})["value"].values())[0]

        call("POST", f"{s}/url", {"url": f"{base}/"})
        for css, text in [("#signin-email", "owner@dockwatch.localhost"), ("#signin-password", PASSWORD)]:
            el = wait(lambda: find(css), css)
            call("POST", f"{s}/element/{el}/value", {"text": text})
        call("POST", f"{s}/element/{find('#signin-submit')}/click", {})
        wait(lambda: js("return document.querySelectorAll('#event-table tbody tr').length"), "signed in")

        def shown(url, rows_css, rows):
            """ms from navigation start until `rows` rows of rows_css are in the page."""
            call("POST", f"{s}/url", {"url": "about:blank"})
            call("POST", f"{s}/url", {"url": url})
            probe = f"return document.querySelectorAll('{rows_css}').length >= {rows} ? performance.now() : 0"
            return wait(lambda: js(probe), url)

        def median(f):
            return statistics.median(f() for _ in range(RUNS))

        org = f"{base}/#/orgs/default"
        print(f"median of {RUNS} fresh loads, ms from navigation start to the data on screen:")
        print(f"  activity log, first 50 of {EVENTS}+ events: {median(lambda: shown(f'{org}/events', '#event-table tbody tr', 50)):.0f}")
        big = min(1000, EVENTS)
        print(f"  activity log, {big} events in one page: {median(lambda: shown(f'{org}/events?limit={big}', '#event-table tbody tr', big)):.0f}")
        print(f"  activity log, text search (q=v{EVENTS - 1}): {median(lambda: shown(f'{org}/events?q=v{EVENTS - 1}', '#event-table tbody tr', 1)):.0f}")

        def load_more():
            shown(f"{org}/events", "#event-table tbody tr", 50)
            t0 = js("return performance.now()")
            call("POST", f"{s}/element/{find('#load-more')}/click", {})
            return wait(lambda: js("return document.querySelectorAll('#event-table tbody tr').length >= 100 ? performance.now() : 0"), "more") - t0
        print(f"  \"Load more\" (50 more, by cursor): {median(load_more):.0f}")
        print(f"  members, teams, repositories: {median(lambda: shown(f'{org}/people', '#member-table tbody tr', 1)):.0f}")
        call("DELETE", s)
    finally:
        driver.terminate()
        serve.terminate()
        driver.wait()
        serve.wait()


if __name__ == "__main__":
    main()
