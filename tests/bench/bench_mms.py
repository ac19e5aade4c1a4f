#!/usr/bin/env python3
"""bench_mms.py - MM7 throughput of pushmailbox (not a test).

    python3 tests/bench/bench_mms.py [--mms 2000] [--dlr-threads 8]
                                     [--db-sync full|normal]

Queues --mms ready MMs (a 2.5 KB MM: SMIL, text, a small JPEG) straight
into pushmailbox's SQLite store while it is stopped, starts it against our
MM7 peer (tests/lib/pmtest/mm7peer.py, strict personality) and prints:

  - SubmitReq/s: from the start of pushmailbox to the last MM accepted
    (every SubmitRsp stored), counted by the peer and checked in the store;
  - DLR/s: the peer sends a DeliveryReportReq for every MessageID from
    --dlr-threads threads; rate of answered (1000) reports, and a check
    that every report is stored on its MM.

Both run on loopback ports of their own; everything started is stopped by
PID.  Needs a build (tests/build, or $PM_BUILD_DIR).
"""

import argparse
import os
import sqlite3
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

from pmtest import ports, proc                       # noqa: E402
from pmtest.kannel import Bearerbox                  # noqa: E402
from pmtest.mm7peer import MM7Peer                   # noqa: E402
from pmtest.pushmail import Pushmail                 # noqa: E402

IN_USER, IN_PASS = "mmsc", "in-pw"
BOUNDARY = "pmbench-b0"


def sample_mm():
    with open(os.path.join(HERE, "..", "data", "mm7", "image1.jpg"),
              "rb") as f:
        jpeg = f.read()
    smil = (b'<smil><head><layout><root-layout width="160" height="120"/>'
            b'<region id="Image" top="0" left="0" height="50%" '
            b'width="100%"/><region id="Text" top="50%" left="0" '
            b'height="50%" width="100%"/></layout></head><body><par '
            b'dur="5000ms"><img src="cid:p001.img" region="Image"/><text '
            b'src="cid:p002.txt" region="Text"/></par></body></smil>')
    text = ("Mail 1 from Ann Lee\nSubj: bench\n\n" + "x " * 900).encode()
    parts = [("application/smil", "<p000.smil>", "p.smil", smil, "8bit"),
             ("image/jpeg", "<p001.img>", "i.jpg", jpeg, "binary"),
             ("text/plain; charset=utf-8", "<p002.txt>", "t.txt", text,
              "8bit")]
    body = b""
    for ctype, cid, loc, data, enc in parts:
        body += (b"--" + BOUNDARY.encode() + b"\r\nContent-Type: " +
                 ctype.encode() + b"\r\nContent-ID: " + cid.encode() +
                 b"\r\nContent-Location: " + loc.encode() +
                 b"\r\nContent-Transfer-Encoding: " + enc.encode() +
                 b"\r\n\r\n" + data + b"\r\n")
    body += b"--" + BOUNDARY.encode() + b"--\r\n"
    ctype = ('multipart/related; type="application/smil"; '
             'start="<p000.smil>"; boundary="%s"' % BOUNDARY)
    return ctype, body


def queue(db_file, n, ctype, body):
    con = sqlite3.connect(db_file)
    now = int(time.time())
    rows = [("%032x" % (0xbe0000 + i), "+1555%07d" % (i % 1000), i + 1,
             "mmsc1", ctype, body.hex(), "bench %d" % i, now)
            for i in range(n)]
    con.executemany(
        "INSERT INTO pm_mms (id, msisdn, n, mmsc, ctype, body, subject, "
        "created, attempts, next_try, state, message_id, status_code, "
        "status_text, report, report_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
        "0, 0, 0, '', 0, '', '', 0)", rows)
    con.commit()
    con.close()


def count(db_file, where):
    con = sqlite3.connect(db_file, timeout=30)
    try:
        return con.execute("SELECT COUNT(*) FROM pm_mms WHERE " +
                           where).fetchone()[0]
    finally:
        con.close()


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mms", type=int, default=2000)
    ap.add_argument("--dlr-threads", type=int, default=8)
    ap.add_argument("--db-sync", default="full")
    ap.add_argument("--connections", type=int, default=32,
                    help="max-connections of the pushmail-mmsc group")
    a = ap.parse_args()
    out = tempfile.mkdtemp(prefix="pm-bench-mms-")
    print("bench_mms: %d MMs, output in %s" % (a.mms, out))
    cleanups = []
    try:
        bb = Bearerbox(out, smsbox_id="pushmail", shortcodes=["1234"])
        cleanups.append(bb.stop)
        bb.start()
        peer = MM7Peer(out, personality="strict", user="vasp",
                       password="vasp-pw").start()
        cleanups.append(peer.stop)
        pm = Pushmail(out, bb, db_sync=a.db_sync, log_level=2)
        cleanups.append(pm.cleanup)
        in_port = ports.free_port()
        pm.add_group("pushmail-mmsc", id="mmsc1", type="mm7",
                     mmsc_url=peer.url, username="vasp", password="vasp-pw",
                     sender_address="5555", incoming_port=in_port,
                     incoming_username=IN_USER, incoming_password=IN_PASS,
                     retry_interval=1, max_connections=a.connections)
        pm.start()                  # creates the schema
        pm.stop()
        ctype, body = sample_mm()
        queue(pm.db_file, a.mms, ctype, body)
        print("queued %d MMs of %d bytes" % (a.mms, len(body)))

        t0 = time.monotonic()
        me0 = os.times()
        pm.start()
        proc.wait_until(lambda: count(pm.db_file, "state = 2") >= a.mms,
                        600, interval=0.2, what="every MM accepted")
        t_sub = time.monotonic() - t0
        me1 = os.times()
        subs = peer.submissions(accepted=True)
        print("SubmitReq: %d accepted in %.2f s (pushmailbox start "
              "included, %d connections): %.0f/s; peer saw %d requests"
              % (a.mms, t_sub, a.connections, a.mms / t_sub,
                 len(peer.submissions())))
        print("CPU seconds: pushmailbox %.2f, the Python MM7 peer %.2f"
              % (cpu_seconds(pm.proc.pid),
                 (me1.user - me0.user) + (me1.system - me0.system)))

        url = "http://127.0.0.1:%d/mm7" % in_port
        ids = [s.message_id for s in subs]
        ok = [0]
        lock = threading.Lock()

        def worker(chunk):
            for mid in chunk:
                r = peer.send_delivery_report(url, IN_USER, IN_PASS, mid,
                                              "+15550000001",
                                              status="Retrieved")
                if r.status_code == 1000:
                    with lock:
                        ok[0] += 1
        chunks = [ids[i::a.dlr_threads] for i in range(a.dlr_threads)]
        threads = [threading.Thread(target=worker, args=(c,))
                   for c in chunks]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        t_dlr = time.monotonic() - t0
        stored = count(pm.db_file, "report = 'Retrieved'")
        print("DeliveryReportReq: %d answered 1000 in %.2f s: %.0f/s; "
              "%d stored on their MM" % (ok[0], t_dlr, ok[0] / t_dlr,
                                         stored))
        with open("/proc/%d/status" % pm.proc.pid) as f:
            for line in f:
                if line.startswith(("VmRSS", "VmHWM")):
                    print("pushmailbox " + " ".join(line.split()))
    finally:
        for fn in reversed(cleanups):
            try:
                fn()
            except Exception as e:                   # noqa: BLE001
                print("cleanup: %s" % e)


if __name__ == "__main__":
    main()
