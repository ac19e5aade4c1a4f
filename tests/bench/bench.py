#!/usr/bin/env python3
"""bench.py - pushmailbox benchmark against real peers (not a test).

    python3 tests/bench/bench.py [--sizes 100,1000] [--mos 10000]
                                 [--latency-mails 40] [--schemes imap,imaps]

For each size N it starts a private Dovecot with N users, binds N phone
numbers with `pushmail-admin import` and lets pushmailbox hold N IDLE
sessions, first over plain IMAP, then over IMAPS, and prints:

  - pushmailbox's RSS with no mailbox (base) and per mailbox (plain, TLS);
  - the delay from the end of a delivery (dovecot-lda) to the prompt at
    fakesmsc, p50 and p99, beside Dovecot's own 0.5 s IDLE notification
    delay (so "over floor" is what pushmail adds);
  - the rate of LIST answers for a burst of --mos MOs (one fakesmsc, -i 0)
    next to Kannel's smsbox answering the same burst with a static
    `sms-service` text, in the same run, on the same bearerbox.

Everything runs on loopback ports of its own and is stopped by PID.  As
root it raises fs.inotify.max_user_instances (Dovecot falls back to
polling above 128 IDLE sessions per uid otherwise) and the open-file
limit.  Needs a build (tests/build) and the packages of tests/install-deps.
"""

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

from pmtest import mail, proc                        # noqa: E402
from pmtest.dovecot import Dovecot                   # noqa: E402
from pmtest.kannel import Bearerbox, FAKESMSC        # noqa: E402
from pmtest.pushmail import Pushmail                 # noqa: E402

SHORTCODE = "1234"
STATIC_CODE = "5555"
DOVECOT_DELAY = 0.5


def raise_limits(n):
    want = max(4096, n * 6 + 1024)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < want:
        want = hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if os.geteuid() == 0:
        for k, v in (("fs.inotify.max_user_instances", n + 1024),
                     ("fs.inotify.max_user_watches", 65536 + n * 16)):
            subprocess.run(["sysctl", "-q", "-w", "%s=%d" % (k, v)],
                           check=False)


def tune_dovecot(dc, n):
    """Dovecot settings for n concurrent IDLE sessions (appended)."""
    with open(dc.conf, "a") as f:
        f.write("""
default_process_limit = {p}
default_client_limit = {c}
mail_max_userip_connections = 50
service imap {{
  process_limit = {p}
}}
service imap-login {{
  service_count = 0
  process_min_avail = 4
  client_limit = {c}
  # each login process proxies the TLS of its clients: thousands of TLS
  # sessions exceed the default 256 MB
  vsz_limit = 4G
}}
service anvil {{
  client_limit = {c}
}}
service auth {{
  client_limit = {c}
}}
service stats {{
  client_limit = {c}
}}
""".format(p=n + 200, c=2 * n + 400))


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def msisdn(i):
    return "+1555%07d" % i


def import_bindings(pm, dc, n, scheme):
    tls = "none" if scheme == "imap" else None
    lines = ["%s %s pw%d" % (msisdn(i), dc.url("u%d" % i, scheme, tls=tls),
                              i) for i in range(n)]
    rc, out, err = pm.admin("import", stdin="\n".join(lines) + "\n",
                            timeout=600)
    if rc != 0:
        raise RuntimeError("import failed: %s" % (err or out)[-500:])


def wait_idle(pm, n, timeout):
    t0 = time.monotonic()
    pm.wait_status(lambda s: "mailboxes: %d idle" % n in s, timeout=timeout,
                   what="%d mailboxes idle" % n)
    return time.monotonic() - t0


def latency(bb, dc, n, count):
    """Delivery -> prompt delays (seconds) for `count` mails."""
    delays = []
    for k in range(count):
        i = random.randrange(n)
        mark = bb.sink.mark()
        dc.deliver("u%d" % i, mail.message(subject="bench %d" % k))
        t0 = time.time()
        m = bb.sink.wait_for(lambda m: m.receiver == msisdn(i)
                             and "GET" in m.text, timeout=30, start=mark)
        delays.append(m.when - t0)
        time.sleep(0.2)
    return delays


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def burst(bb, receiver, text, senders, count):
    """Send `count` MOs in one burst; returns the fakesmsc process."""
    msgs = ["%s %s text %s" % (s, receiver, text) for s in senders]
    return proc.Proc("fakesmsc-burst",
                     [FAKESMSC, "-H", "127.0.0.1", "-r", str(bb.mo_port),
                      "-m", str(count), "-i", "0"] + msgs,
                     os.path.join(bb.out, "fakesmsc-burst.log")).start()


def answer_rate(bb, receiver, text, senders, count, match, timeout=600):
    mark = bb.sink.mark()
    t0 = time.monotonic()
    p = burst(bb, receiver, text, senders, count)
    deadline = t0 + timeout
    got = 0
    while time.monotonic() < deadline:
        got = sum(1 for m in bb.sink.since(mark) if match(m))
        if got >= count:
            break
        time.sleep(0.05)
    took = time.monotonic() - t0
    p.stop(timeout=3)
    return got, took


def bench_size(out, n, args):
    print("== %d mailboxes" % n, flush=True)
    raise_limits(n)
    users = {"u%d" % i: "pw%d" % i for i in range(n)}
    dc = Dovecot(out, users=users, name="dovecot-%d" % n)
    tune_dovecot(dc, n)
    dc.start(timeout=60)
    bb = Bearerbox(out, shortcodes=[SHORTCODE], name="kannel-%d" % n,
                   extra_conf="\ngroup = sms-service\nkeyword = list\n"
                              "text = \"static\"\nmax-messages = 1\n"
                              "catch-all = true\n").start()
    result = {"n": n}
    try:
        for scheme in args.schemes.split(","):
            pm = Pushmail(out, bb, ca_file=dc.ca_file, log_level=2,
                          name="pm-%d-%s" % (n, scheme), coalesce_window=0,
                          sms_budget=100000, poll_interval=60,
                          connect_timeout=60).start()
            time.sleep(2)
            base = rss_kb(pm.proc.pid)
            t_import = time.monotonic()
            import_bindings(pm, dc, n, scheme)
            t_import = time.monotonic() - t_import
            t_idle = wait_idle(pm, n, timeout=120 + n / 10)
            time.sleep(3)
            full = rss_kb(pm.proc.pid)
            result[scheme] = (base, full)
            print("  %-5s base RSS %6.1f MB, %d mailboxes %7.1f MB -> "
                  "%5.1f KB per mailbox (import %.1fs, all idle after %.1fs)"
                  % (scheme, base / 1024.0, n, full / 1024.0,
                     (full - base) / float(n), t_import, t_idle), flush=True)
            if scheme == "imap":
                d = latency(bb, dc, n, args.latency_mails)
                result["latency"] = d
                print("  delivery -> prompt over %d mails: p50 %.0f ms, "
                      "p99 %.0f ms (Dovecot's floor %.0f ms: +%.0f / +%.0f "
                      "ms)" % (len(d), pct(d, 50) * 1e3, pct(d, 99) * 1e3,
                               DOVECOT_DELAY * 1e3,
                               (pct(d, 50) - DOVECOT_DELAY) * 1e3,
                               (pct(d, 99) - DOVECOT_DELAY) * 1e3),
                      flush=True)
                senders = [msisdn(i) for i in range(min(n, 100))]
                cpu0 = cpu_seconds(pm.proc.pid)
                got, took = answer_rate(
                    bb, SHORTCODE, "LIST", senders, args.mos,
                    lambda m: m.sender == SHORTCODE)
                cpu = cpu_seconds(pm.proc.pid) - cpu0
                print("  pushmailbox: %d LIST answers to %d MOs in %.2fs = "
                      "%.0f/s (pushmailbox CPU %.0f us per answer)"
                      % (got, args.mos, took, got / took,
                         cpu * 1e6 / max(got, 1)), flush=True)
                if not getattr(bb, "smsbox", None):
                    bb.start_smsbox()
                got2, took2 = answer_rate(
                    bb, STATIC_CODE, "LIST", senders, args.mos,
                    lambda m: m.text == "static")
                print("  Kannel smsbox: %d static answers to %d MOs in "
                      "%.2fs = %.0f/s  (pushmail/smsbox = %.2f)"
                      % (got2, args.mos, took2, got2 / took2,
                         (got / took) / (got2 / took2) if got2 else 0),
                      flush=True)
            pm.stop(timeout=10)
    finally:
        if getattr(bb, "smsbox", None):
            bb.smsbox.stop()
        bb.stop()
        dc.cleanup()
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="100,1000")
    ap.add_argument("--mos", type=int, default=10000)
    ap.add_argument("--schemes", default="imap,imaps",
                    help="imap (plain, with the latency and LIST runs) "
                         "and/or imaps")
    ap.add_argument("--latency-mails", type=int, default=40)
    ap.add_argument("--keep", action="store_true",
                    help="keep the output folder")
    args = ap.parse_args()
    out = tempfile.mkdtemp(prefix="pm-bench-")
    print("pushmail benchmark; logs in %s" % out, flush=True)
    proc.install_signal_handlers()
    try:
        for n in [int(x) for x in args.sizes.split(",") if x]:
            bench_size(out, n, args)
    finally:
        proc.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
