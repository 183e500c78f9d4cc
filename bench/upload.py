#!/usr/bin/env python3
"""Evidence files: upload and download throughput of a 20 MiB file beside a plain file copy on
the same disk, and the server's memory while it receives the file.

Starts the release binary on a fresh SQLite database in a temporary folder (its evidence files
go to that folder too, the default local storage), sets up over the API what a unit needs to
upload (a unit, a plan with one measure assigned to it, a unit manager, a draft report), then,
`--n` times each and alternating:
  - copies the file with `cp` into the same folder and syncs it (the floor: the disk itself),
  - POSTs it to /api/v1/reports/{id}/attachments (multipart, streamed from the file),
  - GETs it back from /api/v1/attachments/{id}/content and checks its SHA-256,
while the server's VmRSS is sampled from /proc every 20 ms. Each upload's file is deleted again
so the report's limit is never reached. Prints MB/s (median) of each, the ratios to the copy,
and the RSS idle before and the maximum during uploads; writes them to --out as JSON.

Usage: cargo build --release && python3 bench/upload.py [--n 7] [--mib 20] [--out FILE]
"""

import argparse
import hashlib
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from login import free_port, rss_mb  # noqa: E402  (the bench's shared helpers)


class Api:
    def __init__(self, port):
        self.port = port
        self.token = None

    def call(self, method, path, body=None, token=None, expect=(200, 201)):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {}
        if body is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(body)
        if token or self.token:
            headers["Authorization"] = f"Bearer {token or self.token}"
        conn.request(method, "/api/v1" + path, body=body, headers=headers)
        res = conn.getresponse()
        data = res.read()
        if res.status not in expect:
            sys.exit(f"{method} {path}: {res.status} {data[:300]!r}")
        return json.loads(data) if data else None


def upload(port, token, report, path, name):
    """Streams the file as multipart/form-data; returns (seconds, answer)."""
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = os.path.getsize(path)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    t0 = time.perf_counter()
    conn.putrequest("POST", f"/api/v1/reports/{report}/attachments")
    conn.putheader("Authorization", f"Bearer {token}")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Content-Length", str(len(head) + size + len(tail)))
    conn.endheaders()
    conn.send(head)
    with open(path, "rb") as f:
        while True:
            chunk = f.read(256 * 1024)
            if not chunk:
                break
            conn.send(chunk)
    conn.send(tail)
    res = conn.getresponse()
    data = res.read()
    secs = time.perf_counter() - t0
    if res.status != 201:
        sys.exit(f"upload: {res.status} {data[:300]!r}")
    return secs, json.loads(data)


def download(port, token, attachment):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    t0 = time.perf_counter()
    conn.request("GET", f"/api/v1/attachments/{attachment}/content",
                 headers={"Authorization": f"Bearer {token}"})
    res = conn.getresponse()
    h = hashlib.sha256()
    n = 0
    while True:
        chunk = res.read(256 * 1024)
        if not chunk:
            break
        h.update(chunk)
        n += len(chunk)
    secs = time.perf_counter() - t0
    if res.status != 200:
        sys.exit(f"download: {res.status}")
    return secs, h.hexdigest(), n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=7)
    ap.add_argument("--mib", type=int, default=20)
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "duban"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "upload.json"))
    args = ap.parse_args()
    if not os.path.exists(args.binary):
        sys.exit("build first: cargo build --release")
    tmp = tempfile.mkdtemp(prefix="duban-upload-")
    port = free_port()
    password = "bench admin passphrase " + uuid.uuid4().hex[:8]
    env = dict(os.environ,
               DUBAN_DATABASE_URL=f"sqlite://{tmp}/duban.db",
               DUBAN_BIND=f"127.0.0.1:{port}",
               DUBAN_DEMO="false",
               DUBAN_ADMIN_USER="admin",
               DUBAN_ADMIN_PASSWORD=password,
               DUBAN_REMINDER_INTERVAL="0",
               DUBAN_LOG="warn",
               DUBAN_JWT_SECRET="bench-secret-bench-secret-bench-" + uuid.uuid4().hex[:12])
    server = subprocess.Popen([args.binary, "serve"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", "/readyz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        api = Api(port)
        api.token = api.call("POST", "/auth/login", {"username": "admin", "password": password})["access_token"]
        unit = api.call("POST", "/units", {"name": "市知识产权局", "kind": "city_department"})["id"]
        plan = api.call("POST", "/plans", {"title": "2019年计划", "year": 2019})["id"]
        sec = api.call("POST", f"/plans/{plan}/items", {"level": "section", "number": "一", "title": "板块"})["id"]
        task = api.call("POST", f"/plans/{plan}/items", {"level": "task", "parent_id": sec, "number": "1", "title": "任务。"})["id"]
        measure = api.call("POST", f"/plans/{plan}/items", {"level": "measure", "parent_id": task, "number": "1", "title": "措施。"})["id"]
        asg = api.call("POST", f"/measures/{measure}/assignments",
                       {"participants": {"unit_ids": [unit]}, "due_date": "2099-12-31"})["created"][0]["id"]
        api.call("POST", f"/plans/{plan}/publish", {})
        api.call("POST", "/users", {"username": "ipo-manager", "display_name": "经办人", "role": "unit_manager",
                                    "unit_id": unit, "password": password})
        token = api.call("POST", "/auth/login", {"username": "ipo-manager", "password": password})["access_token"]
        report = api.call("POST", f"/assignments/{asg}/reports",
                          {"status": "in_progress", "narrative": "已组织培训。"}, token=token)["id"]

        size = args.mib << 20
        src = os.path.join(tmp, "evidence.pdf")
        with open(src, "wb") as f:
            f.write(b"%PDF-1.7\n")
            f.write(os.urandom(size - 9))
        digest = hashlib.sha256(open(src, "rb").read()).hexdigest()

        samples = []
        stop = threading.Event()

        def sampler():
            while not stop.is_set():
                samples.append((time.perf_counter(), rss_mb(server.pid)))
                time.sleep(0.02)

        idle = rss_mb(server.pid)
        t = threading.Thread(target=sampler)
        t.start()
        copies, ups, downs, windows = [], [], [], []
        for i in range(args.n):
            dst = os.path.join(tmp, f"copy-{i}.pdf")
            t0 = time.perf_counter()
            shutil.copyfile(src, dst)
            fd = os.open(dst, os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)
            copies.append(time.perf_counter() - t0)
            os.remove(dst)
            w0 = time.perf_counter()
            secs, a = upload(port, token, report, src, f"培训签到表-{i}.pdf")
            windows.append((w0, time.perf_counter()))
            ups.append(secs)
            assert a["sha256"] == digest and a["size"] == size, a
            secs, got, n = download(port, token, a["id"])
            assert got == digest and n == size, (got, n)
            downs.append(secs)
            api.call("DELETE", f"/attachments/{a['id']}", token=token, expect=(204,))
        stop.set()
        t.join()
        during = [mb for (ts, mb) in samples if any(a <= ts <= b for a, b in windows)]
        mbps = lambda secs: (size / (1 << 20)) / statistics.median(secs)
        out = {
            "file_mib": args.mib,
            "runs": args.n,
            "copy_mb_s": round(mbps(copies), 1),
            "upload_mb_s": round(mbps(ups), 1),
            "download_mb_s": round(mbps(downs), 1),
            "upload_vs_copy": round(mbps(ups) / mbps(copies), 2),
            "download_vs_copy": round(mbps(downs) / mbps(copies), 2),
            "rss_idle_mb": round(idle, 1),
            "rss_max_during_upload_mb": round(max(during) if during else float("nan"), 1),
            "rss_samples_during_upload": len(during),
        }
        print(json.dumps(out, indent=2, ensure_ascii=False))
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(out, f, indent=2, ensure_ascii=False)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
