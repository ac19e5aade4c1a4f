#!/usr/bin/env python3
"""mail-live-test.py - run test-mail-live against two private Dovecots.

    tests/unit/mail-live-test.py PATH/TO/test-mail-live [--valgrind] [--keep]

Starts Dovecot A (IDLE; imap, imaps, pop3, pop3s) and Dovecot B (no IDLE,
so the watcher polls with STATUS), both on free loopback ports with
passwd-file users, passes their ports in PM_LIVE_* variables and answers
the program's "CTL ..." lines on its stdin:
    CTL deliver A|B USER SUBJECT...   deliver a test mail with dovecot-lda
    CTL stop A / CTL start A          stop (by PID) / start Dovecot A
    CTL flags A USER UID              "OK <flags>" from doveadm fetch
Everything else the program prints is passed through.  Exit status is the
program's; 77 (skip) if Dovecot is not installed.  Logs and configuration
go to a temporary folder (printed; kept with --keep).
"""

import os
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from pmtest import dovecot, mail, proc  # noqa: E402

PASS = 'pa ss"wd\\1'    # quoting: space, quote, backslash
PASS2 = "p\u00e4ss w\u00f6rd"  # 8-bit: needs AUTHENTICATE PLAIN or a literal


def other_name():
    """A name of 127.0.0.1 that the test certificate does not hold."""
    try:
        name = socket.gethostname()
        if name != "localhost" and socket.gethostbyname(name) == "127.0.0.1":
            return name
    except OSError:
        pass
    return ""


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    prog = os.path.abspath(sys.argv[1])
    if not os.path.exists(dovecot.DOVECOT):
        print("skipped: Dovecot is not installed")
        return 77
    out = tempfile.mkdtemp(prefix="pm-mail-live-")
    os.chmod(out, 0o755)    # Dovecot's auth user reads the users file
    print("logs in", out)
    proc.install_signal_handlers()
    users = {u: PASS for u in ("ann", "bob", "carl", "dan")}
    users["eve"] = PASS2
    a = dovecot.Dovecot(out, users=users, idle=True, name="dovecot-a")
    b = dovecot.Dovecot(out, users=users, idle=False, name="dovecot-b")
    insts = {"A": a, "B": b}
    try:
        a.start()
        b.start()
        env = dict(os.environ)
        env.update({
            "PM_LIVE_A_IMAP": str(a.imap_port),
            "PM_LIVE_A_IMAPS": str(a.imaps_port),
            "PM_LIVE_A_POP3": str(a.pop3_port),
            "PM_LIVE_A_POP3S": str(a.pop3s_port),
            "PM_LIVE_B_IMAP": str(b.imap_port),
            "PM_LIVE_CA": a.ca_file,
            "PM_LIVE_OTHER_CA": b.ca_file,
            "PM_LIVE_OTHER_NAME": other_name(),
            "PM_LIVE_PASS": PASS,
            "PM_LIVE_PASS2": PASS2,
        })
        argv = [prog]
        if "--valgrind" in sys.argv:
            argv = ["valgrind", "-q", "--leak-check=full",
                    "--errors-for-leak-kinds=definite,indirect",
                    "--run-libc-freeres=no",
                    "--error-exitcode=9", prog]
        p = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, bufsize=1)
        for line in p.stdout:
            if not line.startswith("CTL "):
                sys.stdout.write(line)
                sys.stdout.flush()
                continue
            words = line.split()
            cmd, inst = words[1], insts.get(words[2])
            reply = "OK"
            try:
                if cmd == "deliver":
                    inst.deliver(words[3], mail.message(
                        subject=" ".join(words[4:])))
                elif cmd == "stop":
                    inst.stop()
                elif cmd == "start":
                    inst.start()
                elif cmd == "flags":
                    cp = subprocess.run(
                        ["doveadm", "-c", inst.conf, "fetch", "-u",
                         words[3], "flags", "mailbox", "INBOX", "uid",
                         words[4]], capture_output=True, text=True,
                        timeout=30)
                    reply = "OK " + cp.stdout.replace("\n", " ").strip()
                    if cp.returncode != 0:
                        reply = "ERR " + cp.stderr.strip()[:200]
                else:
                    reply = "ERR unknown command"
            except Exception as e:  # report, keep the program going
                reply = "ERR %s" % str(e).replace("\n", " ")[:300]
            p.stdin.write(reply + "\n")
            p.stdin.flush()
        return p.wait()
    finally:
        a.cleanup()
        b.cleanup()
        if "--keep" not in sys.argv:
            import shutil
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
