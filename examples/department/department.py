#!/usr/bin/env python3
"""A department's office system talking to duban (督办): Python 3, standard library only.

It signs in as the department's service account (OAuth 2.0 client credentials), receives
duban's webhooks on a local port, verifies each one's signature, and sends reports in batches.

    export DUBAN_URL=http://127.0.0.1:8080 DUBAN_CLIENT_ID=ipo-system DUBAN_CLIENT_SECRET=...

    python3 department.py todo [N]             CSV of N assignments still without a report
    python3 department.py submit FILE.csv      one POST /reports/batch from a CSV
    python3 department.py listen [--port P]    subscribe, print verified events until Ctrl-C
    python3 department.py demo [--wait S]      the whole round once, then exit 0 (or 1)

`demo` subscribes a receiver on 127.0.0.1, pings it, submits two reports in one batch (and
the same batch again, to show that nothing is created twice), and, when DUBAN_OFFICE_USER and
DUBAN_OFFICE_PASSWORD name the coordinating office's account, has the office return one
report, accept the other and issue an urge, then waits for those events, answers the return
with a corrected report, checks the delivery log, redelivers one event (dropped as a repeat),
and deletes its subscription. Any failure ends it with a message and exit status 1.
"""

import csv
import hashlib
import hmac
import http.server
import io
import json
import os
import queue
import signal
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

# The events this department acts on.
EVENTS = ["assignment.created", "report.returned", "urge.issued", "report.accepted"]
# A signature whose timestamp is further than this from our clock is refused (duban's
# documented replay window).
REPLAY_WINDOW_SECS = 300
# Attempts of one request when the server is unreachable or answers 429/5xx.
ATTEMPTS = 4


class Failure(Exception):
    """Something went wrong that the program cannot continue past."""


# ---------------------------------------------------------------------------------------------
# The API client: JSON in and out, problem+json turned into a readable message.


class Duban:
    def __init__(self, url, timeout=30):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.token = None
        self.credentials = None  # kept to sign in again when the token expires

    def request(self, method, path, body=None, form=None, headers=None, expect=(200,), retry=None):
        """Sends one request; returns (status, headers, parsed JSON or None).

        Network errors, 429 and 5xx are retried with exponential backoff (honouring
        Retry-After) when repeating cannot do a thing twice: GET and DELETE, and a POST with an
        Idempotency-Key (or `retry=True`). Any status outside `expect` raises Failure.
        """
        headers = dict(headers or {})
        if retry is None:
            retry = method in ("GET", "DELETE") or "Idempotency-Key" in headers
        attempts = ATTEMPTS if retry else 1
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        headers.setdefault("Accept", "application/json")
        delay, attempt, signed_in_again = 1.0, 0, False
        while True:
            attempt += 1
            req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as res:
                    status, res_headers, raw = res.status, res.headers, res.read()
            except urllib.error.HTTPError as e:
                status, res_headers, raw = e.code, e.headers, e.read()
            except (urllib.error.URLError, OSError) as e:
                if attempt >= attempts:
                    raise Failure(f"{method} {path}: cannot reach {self.url}: {e}") from None
                print(f"  {method} {path}: {e}; trying again in {delay:.0f} s")
                time.sleep(delay)
                delay *= 2
                continue
            if (status == 429 or status >= 500) and attempt < attempts:
                wait = float(res_headers.get("Retry-After") or delay)
                print(f"  {method} {path}: {status}; trying again in {wait:.0f} s")
                time.sleep(wait)
                delay *= 2
                continue
            if status == 401 and self.credentials and not signed_in_again:
                # The token expired (or was revoked): nothing ran; sign in and send it again.
                print(f"  {method} {path}: 401; signing in again")
                self.sign_in_system(*self.credentials)
                headers["Authorization"] = "Bearer " + self.token
                signed_in_again, attempt = True, attempt - 1
                continue
            parsed = json.loads(raw) if raw else None
            if status not in expect:
                raise Failure(f"{method} {path}: expected {expect}, got {status}: {problem_text(parsed)}")
            return status, res_headers, parsed

    def sign_in_system(self, client_id, client_secret):
        """OAuth 2.0 client credentials, form-encoded (RFC 6749 §4.4)."""
        self.token = self.credentials = None
        _, _, t = self.request(
            "POST", "/api/v1/auth/token",
            form={"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret},
            retry=True,
        )
        self.token = t["access_token"]
        self.credentials = (client_id, client_secret)
        return t

    def sign_in_person(self, username, password):
        _, _, t = self.request(
            "POST", "/api/v1/auth/login", body={"username": username, "password": password}
        )
        self.token = t["access_token"]
        return t


def problem_text(p):
    """An RFC 9457 problem (or an OAuth error) in one line."""
    if not isinstance(p, dict):
        return str(p)
    if "error" in p:  # the token endpoint answers OAuth 2.0 errors
        return f"{p['error']}: {p.get('error_description', '')}"
    text = p.get("detail") or p.get("title") or json.dumps(p, ensure_ascii=False)
    for e in p.get("errors") or []:
        if f"{e['field']}: {e['message']}" not in text:
            text += f"; {e['field']}: {e['message']}"
    return text


def env(name):
    value = os.environ.get(name)
    if not value:
        raise Failure(f"{name} is not set (see examples/department/README.md)")
    return value


def system_client():
    api = Duban(env("DUBAN_URL"))
    t = api.sign_in_system(env("DUBAN_CLIENT_ID"), env("DUBAN_CLIENT_SECRET"))
    _, _, me = api.request("GET", "/api/v1/me")
    if me["unit_id"] is None:
        raise Failure(f"{me['username']} is not bound to a unit")
    print(f"signed in as {me['username']} for unit {me['unit_id']} {me['unit_name']} "
          f"(scopes: {t.get('scope', '')}; token for {t['expires_in']} s)", file=sys.stderr)
    return api, me


# ---------------------------------------------------------------------------------------------
# The receiver: verify, drop repeats, answer at once; the work happens on another thread.


def verify_signature(secret, header, body, now=None):
    """The documented check of `Duban-Signature: t=<unix seconds>,v1=<hex>`: the HMAC-SHA256
    of "<t>.<raw body>" under the secret, compared in constant time, and t within 5 minutes.
    Returns None when it holds, else the reason."""
    now = int(time.time()) if now is None else now
    t, candidates = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            t = value
        elif key == "v1":
            candidates.append(value)
    try:
        t = int(t)
    except (TypeError, ValueError):
        return "the signature header has no t=<unix seconds>"
    if abs(now - t) > REPLAY_WINDOW_SECS:
        return f"the signature's time {t} is outside the {REPLAY_WINDOW_SECS} s window"
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected.encode(), c.encode()) for c in candidates):
        return "the signature does not match"
    return None


class Receiver:
    """An HTTP server on 127.0.0.1 taking duban's deliveries. `events` receives each verified
    event once (by event id); a repeat is answered 200 and dropped."""

    MAX_BODY = 1 << 20

    def __init__(self, port=0, path="/duban/events"):
        self.path = path
        self.secret = None  # set once the subscription is made
        self.events = queue.Queue()
        self.seen = set()  # event ids handled (keep them in a database in production)
        self.lock = threading.Lock()
        self.log = []  # (status, reason) per request, for the demo's checks
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                status, reason = receiver.take(self)
                with receiver.lock:
                    receiver.log.append((status, reason))
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(reason.encode())))
                self.end_headers()
                self.wfile.write(reason.encode())

            def log_message(self, *args):
                pass  # the program prints what it verified instead

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{path}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def take(self, h):
        if h.path != self.path:
            return 404, "not here"
        try:
            length = int(h.headers.get("Content-Length", ""))
        except ValueError:
            length = -1
        if not 0 <= length <= self.MAX_BODY:
            return 400, "a body with a Content-Length of at most 1 MiB is expected"
        body = h.rfile.read(length)  # the raw bytes: the signature covers exactly these
        header = h.headers.get("Duban-Signature")
        if not header:
            return 400, "no Duban-Signature"
        if self.secret is None:
            return 503, "not subscribed yet"
        why = verify_signature(self.secret, header, body)
        if why:
            print(f"  refused a delivery: {why}")
            return 401, why
        try:
            event = json.loads(body)
            event_id, event_type = event["id"], event["type"]
        except (ValueError, KeyError, TypeError):
            return 400, "the body is not an event"
        with self.lock:
            if event_id in self.seen:
                print(f"  event {event_id} ({event_type}) again, delivery "
                      f"{h.headers.get('Duban-Delivery')}: a repeat, dropped")
                return 200, "already handled"
            self.seen.add(event_id)
        self.events.put(event)
        return 200, "ok"

    def next_event(self, deadline):
        """The next verified event, or None once `deadline` (time.monotonic()) has passed."""
        try:
            return self.events.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return None

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def describe(event):
    d = event.get("data") or {}
    kind = event["type"]
    if kind == "ping":
        return f"ping for subscription {d.get('webhook_id')}"
    if kind.startswith("report."):
        extra = f", reason: {d['return_reason']}" if d.get("return_reason") else ""
        return f"{kind}: report {d.get('report_id')} on assignment {d.get('assignment_id')}{extra}"
    if kind == "assignment.created":
        return f"{kind}: assignment {d.get('assignment_id')} due {d.get('due_date')}"
    if kind == "urge.issued":
        return f"{kind}: {d.get('severity')} about assignments {d.get('assignment_ids')}: {d.get('message')}"
    return f"{kind}: {json.dumps(d, ensure_ascii=False)}"


def subscribe(api, receiver):
    _, _, w = api.request(
        "POST", "/api/v1/webhooks", expect=(201,),
        body={"url": receiver.url, "events": EVENTS, "description": "department.py example"},
    )
    receiver.secret = w["secret"]  # shown this once: a real system stores it like a password
    print(f"subscribed {receiver.url} as webhook {w['id']} to {', '.join(w['events'])}")
    return w


def unsubscribe(api, webhook_id):
    api.request("DELETE", f"/api/v1/webhooks/{webhook_id}", expect=(204, 404))
    print(f"deleted webhook {webhook_id}")


# ---------------------------------------------------------------------------------------------
# Reports in batches.

CSV_FIELDS = ["assignment_id", "status", "progress", "narrative", "problems", "next_steps", "submit"]


def open_assignments(api, unit_id, n):
    """Up to n of the unit's assignments without a report, on a published plan."""
    found, plans, cursor = [], {}, None
    while len(found) < n:
        query = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        _, _, page = api.request("GET", "/api/v1/assignments?" + urllib.parse.urlencode(query))
        for a in page["items"]:
            if a["unit_id"] != unit_id or a["latest_report_id"] is not None:
                continue
            if a["plan_id"] not in plans:
                _, _, plan = api.request("GET", f"/api/v1/plans/{a['plan_id']}")
                plans[a["plan_id"]] = plan["state"]
            if plans[a["plan_id"]] == "published" and len(found) < n:
                found.append(a)
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return found


def items_from_csv(text):
    """Batch items (op create) from CSV rows with the columns of CSV_FIELDS."""
    items = []
    for line, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        try:
            item = {
                "op": "create",
                "assignment_id": int(row["assignment_id"]),
                "status": row["status"].strip(),
                "narrative": row.get("narrative") or "",
                "problems": row.get("problems") or "",
                "next_steps": row.get("next_steps") or "",
                "submit": (row.get("submit") or "").strip().lower() in ("1", "true", "yes"),
            }
            if (row.get("progress") or "").strip():
                item["progress"] = int(row["progress"])
        except (KeyError, ValueError, AttributeError) as e:
            raise Failure(f"CSV line {line}: {e!r} (columns: {', '.join(CSV_FIELDS)})") from None
        items.append(item)
    if not items:
        raise Failure("the CSV has no rows")
    return items


def send_batch(api, items, key):
    """One POST /reports/batch under an Idempotency-Key; prints one line per item."""
    status, headers, answer = api.request(
        "POST", "/api/v1/reports/batch", body={"items": items}, headers={"Idempotency-Key": key}
    )
    replayed = headers.get("Idempotency-Replayed") == "true"
    print(f"batch {key}: {answer['succeeded']} succeeded, {answer['failed']} failed"
          + (" (the first answer, replayed: nothing ran again)" if replayed else ""))
    for r, item in zip(answer["items"], items):
        target = item.get("assignment_id") or item.get("report_id")
        if r.get("report"):
            rep = r["report"]
            print(f"  [{r['index']}] {item['op']} {target}: {r['status']} report {rep['id']} "
                  f"{rep['workflow']} ETag {r['etag']}")
        else:
            print(f"  [{r['index']}] {item['op']} {target}: {r['status']} {problem_text(r['problem'])}")
    return answer, replayed


# ---------------------------------------------------------------------------------------------
# Commands.


def cmd_todo(args):
    n = int(args[0]) if args else 5
    api, me = system_client()
    out = csv.DictWriter(sys.stdout, CSV_FIELDS, lineterminator="\n")
    out.writeheader()
    for a in open_assignments(api, me["unit_id"], n):
        out.writerow({"assignment_id": a["id"], "status": "in_progress", "progress": 50,
                      "narrative": "", "problems": "", "next_steps": "", "submit": "false"})


def cmd_submit(args):
    if not args:
        raise Failure("usage: department.py submit FILE.csv [--key KEY]")
    with open(args[0], encoding="utf-8-sig") as f:
        text = f.read()
    items = items_from_csv(text)
    # The key is the file's digest: running the same file again (after a timeout, a crash, a
    # second click) replays the first answer instead of creating the reports twice.
    key = args[args.index("--key") + 1] if "--key" in args else \
        "csv-" + hashlib.sha256(text.encode()).hexdigest()[:40]
    api, _ = system_client()
    answer, _ = send_batch(api, items, key)
    return 0 if answer["failed"] == 0 else 2


def stop(*_):
    raise KeyboardInterrupt


def cmd_listen(args):
    port = int(args[args.index("--port") + 1]) if "--port" in args else 8787
    api, _ = system_client()
    receiver = Receiver(port)
    w = subscribe(api, receiver)
    # Stop cleanly on Ctrl-C and on SIGTERM (a service manager's stop).
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    print("waiting for events (Ctrl-C to stop and unsubscribe)")
    try:
        while True:
            event = receiver.next_event(time.monotonic() + 3600)
            if event:
                print(f"verified event {event['id']} at {event['occurred_at']}: {describe(event)}")
    except KeyboardInterrupt:
        pass
    finally:
        unsubscribe(api, w["id"])
        receiver.close()
    return 0


def cmd_demo(args):
    wait_secs = int(args[args.index("--wait") + 1]) if "--wait" in args else 60
    api, me = system_client()
    receiver = Receiver(0)
    w = subscribe(api, receiver)
    wanted = {}  # event type -> report or assignment id that must arrive (None: any)
    try:
        return demo_round(api, me, receiver, w, wanted, wait_secs)
    finally:
        unsubscribe(api, w["id"])
        receiver.close()


def demo_round(api, me, receiver, w, wanted, wait_secs):
    hook = f"/api/v1/webhooks/{w['id']}"

    # 1. The receiver refuses what duban did not sign, then a ping arrives signed.
    check_receiver_refuses(receiver)
    _, _, ping = api.request("POST", hook + "/ping", expect=(202,), retry=True)
    print(f"asked for a ping: delivery {ping['id']} of event {ping['event_id']}")
    wanted["ping"] = None

    # 2. Two reports in one batch, created and sent; then the same batch under the same key.
    chosen = open_assignments(api, me["unit_id"], 2)
    if len(chosen) < 2:
        raise Failure("the unit has fewer than 2 assignments without a report on a published plan")
    items = [
        {"op": "create", "assignment_id": chosen[0]["id"], "status": "in_progress", "progress": 60,
         "narrative": "已完成相关调研，形成修订草案。", "next_steps": "征求意见后报送审议。", "submit": True},
        {"op": "create", "assignment_id": chosen[1]["id"], "status": "completed", "progress": 100,
         "narrative": "已按要求完成。", "submit": True},
    ]
    key = "demo-" + str(uuid.uuid4())
    first, _ = send_batch(api, items, key)
    if first["failed"]:
        raise Failure("the batch had failed items")
    again, replayed = send_batch(api, items, key)
    if not replayed or again != first:
        raise Failure("the same batch under the same key was not answered with the first answer")
    reports = [r["report"]["id"] for r in first["items"]]
    for a, rid in zip(chosen, reports):
        _, _, page = api.request("GET", f"/api/v1/reports?assignment_id={a['id']}&count=true")
        if page["total"] != 1 or page["items"][0]["id"] != rid:
            raise Failure(f"assignment {a['id']} has {page['total']} reports, not just report {rid}")
    print(f"sent the batch twice: reports {reports} exist once")

    # 3. The office acts on them (only when its account is given).
    office_user = os.environ.get("DUBAN_OFFICE_USER")
    if office_user:
        office = Duban(api.url)
        office.sign_in_person(office_user, env("DUBAN_OFFICE_PASSWORD"))
        office.request("POST", f"/api/v1/reports/{reports[0]}/return",
                       body={"reason": "请补充具体数据和完成时间。"})
        office.request("POST", f"/api/v1/reports/{reports[1]}/accept")
        office.request("POST", "/api/v1/urges", expect=(201,), body={
            "unit_id": me["unit_id"], "assignment_ids": [chosen[0]["id"]], "severity": "reminder",
            "message": "请尽快补充报送。"})
        print(f"as {office_user}: returned report {reports[0]}, accepted report {reports[1]}, "
              f"issued a reminder about assignment {chosen[0]['id']}")
        wanted.update({"report.returned": reports[0], "report.accepted": reports[1],
                       "urge.issued": None})
    else:
        print("DUBAN_OFFICE_USER is not set: only the ping is awaited")

    # 4. Wait for every expected event, verified; answer the return with a corrected report.
    deadline = time.monotonic() + wait_secs
    received = {}
    while set(wanted) - set(received):
        event = receiver.next_event(deadline)
        if event is None:
            missing = ", ".join(sorted(set(wanted) - set(received)))
            _, _, log = api.request("GET", hook + "/deliveries?limit=50")
            states = "; ".join(f"{d['event_type']} {d['state']} after {d['attempts']} attempts"
                               + (f" ({d['last_error']})" if d["last_error"] else "") for d in log["items"])
            raise Failure(f"no verified {missing} within {wait_secs} s. Delivery log: {states or 'empty'}. "
                          "(Pending with 0 attempts: is the server's webhook worker on? "
                          "DUBAN_WEBHOOK_WORKER must not be false.)")
        print(f"verified event {event['id']} ({event['type']}): {describe(event)}")
        kind, data = event["type"], event.get("data") or {}
        expected = wanted.get(kind)
        if kind not in wanted or (expected is not None and data.get("report_id") != expected):
            continue
        received[kind] = event
        if kind == "report.returned":
            resubmit(api, data["report_id"])

    # 5. The delivery log shows them delivered; a redelivery brings the same event id again.
    _, _, log = api.request("GET", hook + "/deliveries?limit=50")
    states = {d["id"]: (d["event_type"], d["state"], d["last_status"]) for d in log["items"]}
    print(f"delivery log: {states}")
    ping_delivery = next(d for d in log["items"] if d["event_type"] == "ping")
    if ping_delivery["state"] != "delivered":
        raise Failure(f"the ping's delivery is {ping_delivery['state']}")
    repeats_before = sum(1 for s, r in receiver.log if r == "already handled")
    _, _, again = api.request("POST", f"{hook}/deliveries/{ping_delivery['id']}/redeliver", expect=(202,))
    print(f"redelivering the ping as delivery {again['id']}")
    while sum(1 for s, r in receiver.log if r == "already handled") == repeats_before:
        if time.monotonic() > deadline:
            raise Failure("the redelivered ping did not arrive")
        time.sleep(0.1)
    print("demo passed: the ping" + (", report.returned, report.accepted and urge.issued" if office_user else "")
          + " arrived signed and verified; forged, stale and repeated deliveries were refused or dropped")
    return 0


def resubmit(api, report_id):
    """A returned report, corrected and sent again in one batch (update needs the ETag)."""
    _, headers, report = api.request("GET", f"/api/v1/reports/{report_id}")
    items = [
        {"op": "update", "report_id": report_id, "if_match": headers["ETag"], "progress": 80,
         "narrative": report["narrative"] + "截至目前已完成80%，预计本月底前全部完成。"},
        {"op": "submit", "report_id": report_id},
    ]
    answer, _ = send_batch(api, items, "resubmit-" + str(uuid.uuid4()))
    if answer["failed"]:
        raise Failure(f"resubmitting report {report_id} failed")


def check_receiver_refuses(receiver):
    """Our own receiver, sent deliveries duban did not sign: each must be refused."""
    # First, the recipe against the vector of duban's own unit test (src/domain/webhook.rs).
    vector = "t=1,v1=90ebc65a2174297bcabd31e7cdb290734ffd97b67d17c09a380b0d4828d3d90c"
    if verify_signature("key", vector, b"abc", now=1) is not None:
        raise Failure("verify_signature does not accept duban's own test vector")
    body = json.dumps({"id": 0, "type": "ping", "occurred_at": "", "data": {}}).encode()
    now = int(time.time())

    def sign(t, secret=receiver.secret):
        return f"t={t},v1=" + hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()

    cases = [
        ("no signature", None, 400),
        ("another secret", sign(now, "whsec_not_ours"), 401),
        ("a stale timestamp", sign(now - REPLAY_WINDOW_SECS - 60), 401),
        ("a timestamp in the future", sign(now + REPLAY_WINDOW_SECS + 60), 401),
    ]
    for what, header, expected in cases:
        req = urllib.request.Request(receiver.url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        if header:
            req.add_header("Duban-Signature", header)
        try:
            with urllib.request.urlopen(req, timeout=5) as res:
                status = res.status
        except urllib.error.HTTPError as e:
            status = e.code
        if status != expected:
            raise Failure(f"the receiver answered {status} to a delivery with {what}, not {expected}")
    # The body changed after signing: refused too.
    req = urllib.request.Request(receiver.url, data=body.replace(b"ping", b"pong"), method="POST",
                                 headers={"Duban-Signature": sign(now)})
    try:
        urllib.request.urlopen(req, timeout=5)
        raise Failure("the receiver accepted a body changed after signing")
    except urllib.error.HTTPError as e:
        if e.code != 401:
            raise Failure(f"the receiver answered {e.code} to a changed body, not 401") from None
    print("the receiver refuses unsigned, wrongly signed, stale, future and altered deliveries")


COMMANDS = {"todo": cmd_todo, "submit": cmd_submit, "listen": cmd_listen, "demo": cmd_demo,
            "--once": cmd_demo}


def main(argv):
    if len(argv) < 2 or argv[1] not in COMMANDS:
        print(__doc__)
        return 2
    try:
        return COMMANDS[argv[1]](argv[2:]) or 0
    except Failure as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
