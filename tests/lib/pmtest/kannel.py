"""kannel.py - a private Kannel bearerbox with fake SMSCs, and its clients.

    bb = Bearerbox(out_dir, smsbox_id="pushmail", shortcodes=["1234"]).start()
    sink = bb.sink                      # FakeSmscSink on the "sink" SMSC
    sink.wait_for(lambda m: m.receiver == "+15550001", timeout=10)
    bb.send_mo("+15550001", "1234", "GET 1")   # one-shot fakesmsc, "mo" SMSC
    bb.restart()

kannel.conf holds: `group = core` (admin, smsbox port, logs, internal DLR
storage), a `group = smsbox` (bearerbox refuses to start with smsbox-port
set and no smsbox group; Kannel's own smsbox uses it in test_peers), the MT
sink `smsc = fake` (smsc-id "sink"), the MO injector `smsc = fake`
(smsc-id "mo") and one
`group = smsbox-route` per shortcode to our smsbox-id.

No MT may reach the MO injector, not even a reply that keeps the MO's
smsc-id "mo" (Kannel's smsbox does that): bearerbox matches a message's
smsc-id only against allowed-/denied-/preferred-smsc-id lists, never
against the SMSC's own id, so the injector gets an allowed-smsc-id that no
message carries, and every MT goes to the sink.

fakesmsc facts (Debian kannel-extras 1.4.5): MTs are printed on stderr as
DEBUG lines `Got message N: <sender receiver type data>` where type is
`text` (raw, printable), `data` (URL-encoded 8-bit), `ucs-2` (URL-encoded
UTF-16BE) or `udh UDH data DATA`.  A text with newlines arrives as several
`Got message` lines: lines that do not start a new message are joined to
the previous one.  `fakesmsc -m 1` does not exit after sending: send_mo()
waits until bearerbox counts the MO on the "mo" SMSC, then stops it.
"""

import os
import re
import threading
import time
import urllib.parse
import urllib.request

from . import ports, proc

BEARERBOX = "/usr/sbin/bearerbox"
SMSBOX = "/usr/sbin/smsbox"
FAKESMSC = "/usr/lib/kannel/test/fakesmsc"


def http_get(url, timeout=5):
    """(status, body text) of a GET; (None, error text) when unreachable."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except Exception as e:          # connection refused, timeout, reset
        return None, str(e)


def _unquote(raw):
    """fakesmsc URL-encodes with octstr_url_encode: space is '+'."""
    return urllib.parse.unquote_to_bytes(raw.replace("+", " "))


def _guess_decode(data):
    """Text of concatenated parts whose coding fakesmsc does not show:
    UTF-8 (Kannel's 7-bit) when valid and printable, else UTF-16BE."""
    try:
        t = data.decode("utf-8")
        if not any(ord(c) < 32 and c not in "\r\n\t" for c in t):
            return "text", t
    except UnicodeDecodeError:
        pass
    if len(data) % 2 == 0:
        return "ucs-2", data.decode("utf-16-be", "replace")
    return "data", data.decode("utf-8", "replace")


class Sms:
    """One MT as seen by fakesmsc.  text is the decoded text (str).
    Concatenated parts (UDH IEI 0 or 8) are joined into one Sms with
    parts > 1 before anyone sees them."""

    def __init__(self, sender, receiver, kind, raw, udh=None, when=None):
        self.sender = sender
        self.receiver = receiver
        self.kind = kind            # text, data, ucs-2, udh
        self.raw = raw              # data as printed (str)
        self.udh = udh              # bytes or None
        self.when = when or time.time()
        self.parts = 1
        self.data = b""
        self.text = ""
        self._decode()

    def _decode(self):
        if self.kind == "text":
            self.data = self.raw.encode("utf-8", "surrogateescape")
            self.text = self.raw
        elif self.kind == "ucs-2":
            self.data = _unquote(self.raw)
            self.text = self.data.decode("utf-16-be", "replace")
        else:
            self.data = _unquote(self.raw)
            self.text = self.data.decode("utf-8", "replace")

    def append_line(self, line):
        # Only raw text can be split across lines by fakesmsc.
        self.raw += "\n" + line
        self._decode()

    def concat_info(self):
        """(ref, total, seq) when the UDH holds a concatenation IE."""
        u = self.udh
        if not u or len(u) < 2:
            return None
        i, end = 1, min(len(u), 1 + u[0])
        while i + 1 < end:
            iei, ln = u[i], u[i + 1]
            v = u[i + 2:i + 2 + ln]
            if iei == 0 and ln == 3 and len(v) == 3:
                return v[0], v[1], v[2]
            if iei == 8 and ln == 4 and len(v) == 4:
                return (v[0] << 8) | v[1], v[2], v[3]
            i += 2 + ln
        return None

    @classmethod
    def joined(cls, parts):
        first = parts[0]
        data = b"".join(p.data for p in parts)
        kind, text = _guess_decode(data)
        m = cls(first.sender, first.receiver, "text", "", when=first.when)
        m.kind, m.data, m.text, m.parts = kind, data, text, len(parts)
        m.raw = " ".join(p.raw for p in parts)
        return m

    def __repr__(self):
        return "Sms(%s -> %s, %s%s, %r)" % (
            self.sender, self.receiver, self.kind,
            "" if self.parts == 1 else " %d parts" % self.parts,
            self.text[:200])


_GOT = re.compile(r"Got message (\d+): <(.*)$")
_HEAD = re.compile(r"^(\S+) (\+?[0-9A-Za-z]+) (text|data|ucs-2|udh) (.*)$",
                   re.S)


class FakeSmscSink:
    """`fakesmsc -m 0` connected to the sink SMSC, collecting every MT."""

    def __init__(self, bearerbox, name="sink"):
        self.bb = bearerbox
        self.port = bearerbox.sink_port
        self.log_path = os.path.join(bearerbox.out, "fakesmsc-%s.log" % name)
        self.messages = []
        self._partial = {}
        self.cond = threading.Condition()
        self.proc = None
        self._thread = None

    def start(self):
        # the log file is appended to across restarts: read only what
        # this run writes
        try:
            self._start_pos = os.path.getsize(self.log_path)
        except OSError:
            self._start_pos = 0
        self.proc = proc.Proc(
            "fakesmsc", [FAKESMSC, "-H", "127.0.0.1", "-r", str(self.port),
                         "-m", "0", "0 0 text unused"],
            self.log_path).start()
        # fakesmsc logs to stderr, which Proc sends to the log file; we
        # follow the file (robust against the pipe filling up).
        self._thread = threading.Thread(target=self._follow, daemon=True)
        self._thread.start()
        return self

    def _follow(self):
        # Poll the log every few ms: the sink's own delay shows up in every
        # latency a test or the benchmark measures, so keep it near 0.
        buf = b""
        p = self.proc
        f = None
        while f is None:
            try:
                f = open(self.log_path, "rb")
            except OSError:
                if not p.running():
                    return
                time.sleep(0.003)
        with f:
            f.seek(self._start_pos)
            while True:
                chunk = f.read()
                if chunk:
                    buf += chunk
                    *lines, buf = buf.split(b"\n")
                    for line in lines:
                        self._line(line.decode("utf-8", "surrogateescape"))
                elif not p.running():
                    break
                else:
                    time.sleep(0.003)

    def _line(self, line):
        m = _GOT.search(line)
        if not m:
            return
        body = m.group(2)
        if body.endswith(">"):
            body = body[:-1]
        h = _HEAD.match(body)
        with self.cond:
            if h is None and self.messages and \
                    self.messages[-1].kind == "text":
                self.messages[-1].append_line(body)
            elif h is not None:
                sender, receiver, kind, rest = h.groups()
                udh = None
                if kind == "udh":
                    parts = rest.split(" ", 2)
                    udh = urllib.parse.unquote_to_bytes(parts[0])
                    rest = parts[2] if len(parts) > 2 else ""
                self._add(Sms(sender, receiver, kind, rest, udh))
            self.cond.notify_all()

    def _add(self, m):
        ci = m.concat_info()
        if ci is None:
            self.messages.append(m)
            return
        ref, total, seq = ci
        key = (m.sender, m.receiver, ref, total)
        got = self._partial.setdefault(key, {})
        got[seq] = m
        if len(got) >= total:
            del self._partial[key]
            self.messages.append(Sms.joined([got[k] for k in sorted(got)]))

    def stop(self):
        if self.proc:
            self.proc.stop()
        if self._thread:
            self._thread.join(timeout=5)

    def restart(self):
        self.stop()
        return self.start()

    # --- queries -------------------------------------------------------
    def all(self):
        with self.cond:
            return list(self.messages)

    def messages_to(self, msisdn):
        return [m for m in self.all() if m.receiver == msisdn]

    def wait_for(self, pred, timeout=15, start=0):
        """Wait for an MT (index >= start) with pred(sms) true; return it.
        Raise TimeoutError listing what did arrive."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for m in self.messages[start:]:
                    if pred(m):
                        # a multi-line text may still be arriving
                        if m.kind == "text" and m is self.messages[-1]:
                            self.cond.wait(0.2)
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        "no matching SMS within %.0fs; got: %r"
                        % (timeout, self.messages[start:][-5:]))
                self.cond.wait(left)

    def wait_to(self, msisdn, contains=None, timeout=15, start=0):
        """Wait for an MT to msisdn whose text contains `contains` (a str,
        case-insensitive, or a list of them)."""
        want = contains if isinstance(contains, (list, tuple)) else \
            ([contains] if contains else [])
        return self.wait_for(
            lambda m: m.receiver == msisdn and
            all(w.lower() in m.text.lower() for w in want),
            timeout=timeout, start=start)

    def mark(self):
        """Index to pass as start= to wait only for later messages."""
        with self.cond:
            return len(self.messages)

    def since(self, mark, msisdn=None):
        return [m for m in self.all()[mark:]
                if msisdn is None or m.receiver == msisdn]

    def quiet(self, msisdn, seconds, start=None):
        """Sleep `seconds` and return the MTs to msisdn that arrived."""
        if start is None:
            start = self.mark()
        time.sleep(seconds)
        return self.since(start, msisdn)


class Bearerbox:
    def __init__(self, out_dir, smsbox_id="pushmail", shortcodes=("1234",),
                 name="kannel", extra_conf="", smsbox_conf=""):
        self.out = os.path.join(out_dir, name)
        os.makedirs(self.out, exist_ok=True)
        self.smsbox_id = smsbox_id
        self.shortcodes = list(shortcodes)
        self.admin_port, self.smsbox_port, self.sink_port, self.mo_port, \
            self.sendsms_port = ports.free_ports(5)
        self.admin_password = "bbadmin"
        self.conf = os.path.join(self.out, "kannel.conf")
        self.log_path = os.path.join(self.out, "bearerbox.log")
        self.extra_conf = extra_conf
        self.smsbox_conf = smsbox_conf
        self.proc = None
        self.sink = None
        self._mo_lock = threading.Lock()
        self._mo_count = 0
        self._write()

    def _write(self):
        routes = "".join(
            '\ngroup = smsbox-route\nsmsbox-id = "%s"\nshortcode = "%s"\n'
            % (self.smsbox_id, sc) for sc in self.shortcodes)
        text = """# pmtest kannel.conf (generated)
group = core
admin-port = {admin}
admin-password = "{pw}"
status-password = "{pw}"
admin-allow-ip = "127.0.0.1"
smsbox-port = {smsbox}
box-allow-ip = "127.0.0.1"
log-file = "{out}/bearerbox.log"
log-level = 0
access-log = "{out}/bearerbox-access.log"
dlr-storage = internal

group = smsbox
bearerbox-host = "127.0.0.1"
bearerbox-port = {smsbox}
sendsms-port = {sendsms}
log-file = "{out}/smsbox.log"
log-level = 0
{smsbox_conf}
group = smsc
smsc = fake
smsc-id = "sink"
port = {sink}
connect-allow-ip = "127.0.0.1"

group = smsc
smsc = fake
smsc-id = "mo"
port = {mo}
connect-allow-ip = "127.0.0.1"
allowed-smsc-id = "pmtest-no-mt-here"
{routes}
{extra}""".format(admin=self.admin_port, pw=self.admin_password,
                  smsbox=self.smsbox_port, out=self.out,
                  sendsms=self.sendsms_port, smsbox_conf=self.smsbox_conf,
                  sink=self.sink_port, mo=self.mo_port, routes=routes,
                  extra=self.extra_conf)
        with open(self.conf, "w") as f:
            f.write(text)

    # --- status --------------------------------------------------------
    def status(self):
        code, body = http_get("http://127.0.0.1:%d/status.txt?password=%s"
                              % (self.admin_port, self.admin_password))
        return body if code == 200 else None

    def smsc_line(self, smsc_id):
        st = self.status() or ""
        for line in st.splitlines():
            if line.strip().startswith("%s[" % smsc_id):
                return line
        return None

    def smsc_online(self, smsc_id):
        line = self.smsc_line(smsc_id)
        return bool(line and "(online" in line)

    def mo_received(self):
        """MOs bearerbox has received on the "mo" SMSC so far."""
        line = self.smsc_line("mo") or ""
        m = re.search(r"rcvd: sms (\d+)", line)
        return int(m.group(1)) if m else None

    def box_connected(self, box_id=None):
        """True when a box identified as box_id (default: our smsbox-id)
        is connected."""
        st = self.status() or ""
        return ("smsbox:%s," % (box_id or self.smsbox_id)) in st

    # --- life cycle ----------------------------------------------------
    def start(self, timeout=20):
        self.proc = proc.Proc("bearerbox", [BEARERBOX, self.conf],
                              os.path.join(self.out, "bearerbox.out")).start()
        try:
            proc.wait_until(lambda: not self.proc.running() or
                            self.status() is not None, timeout,
                            what="bearerbox status page")
            if not self.proc.running():
                raise RuntimeError("bearerbox exited")
            old = self.sink.all() if self.sink else []
            self.sink = FakeSmscSink(self)
            self.sink.messages.extend(old)
            self.sink.start()
            proc.wait_until(lambda: self.smsc_online("sink"), timeout,
                            what="fakesmsc sink online")
        except Exception as e:
            raise RuntimeError("%s:\n%s\n%s" % (
                e, proc.tail(os.path.join(self.out, "bearerbox.out")),
                proc.tail(self.log_path)))
        return self

    def stop(self):
        if self.sink:
            self.sink.stop()
        if self.proc:
            self.proc.stop(timeout=10)
            self.proc = None
        try:
            proc.wait_until(lambda: not ports.is_listening(self.admin_port)
                            and not ports.is_listening(self.smsbox_port),
                            10, what="bearerbox ports to close")
        except TimeoutError:
            pass

    def restart(self, down_seconds=0):
        """Stop bearerbox (and the sink), wait, start again: ports and
        configuration stay, the sink keeps the messages seen so far."""
        self.stop()
        if down_seconds:
            time.sleep(down_seconds)
        return self.start()

    # --- MO --------------------------------------------------------------
    def send_mo(self, sender, receiver, text, kind="text", timeout=15):
        """Inject one MO through the "mo" fake SMSC with a one-shot
        fakesmsc.  kind: "text" (text must be one line), "data" (bytes or
        str, URL-encoded here), "ucs2" (str, sent as UTF-16BE)."""
        if kind == "text":
            if "\n" in text or "\r" in text:
                kind, text = "data", text.encode("utf-8")
            else:
                payload = text
        if kind == "data":
            b = text if isinstance(text, bytes) else text.encode("utf-8")
            payload = urllib.parse.quote_from_bytes(b, safe="")
        elif kind == "ucs2":
            payload = urllib.parse.quote_from_bytes(
                text.encode("utf-16-be"), safe="")
        line = "%s %s %s %s" % (sender, receiver, kind, payload)
        with self._mo_lock:
            before = self.mo_received()
            if before is None:
                raise RuntimeError("bearerbox is not answering")
            self._mo_count += 1
            p = proc.Proc("fakesmsc-mo",
                          [FAKESMSC, "-H", "127.0.0.1", "-r",
                           str(self.mo_port), "-m", "1", line],
                          os.path.join(self.out, "fakesmsc-mo.log")).start()
            try:
                proc.wait_until(
                    lambda: (self.mo_received() or 0) > before
                    or not p.running(), timeout, interval=0.05,
                    what="bearerbox to receive MO %r" % line)
                if (self.mo_received() or 0) <= before:
                    raise RuntimeError("fakesmsc exited before the MO was "
                                       "received: " + p.log_tail(5))
            finally:
                p.stop(timeout=3)

    # --- Kannel's own smsbox (used by test_peers) ------------------------
    def start_smsbox(self):
        self.smsbox = proc.Proc("smsbox", [SMSBOX, self.conf],
                                os.path.join(self.out, "smsbox.out")).start()
        proc.wait_until(lambda: ports.is_listening(self.sendsms_port)
                        and self.box_connected(self._kannel_smsbox_id()),
                        20, what="smsbox connected")
        return self.smsbox

    def _kannel_smsbox_id(self):
        m = re.search(r"^smsbox-id\s*=\s*\"?([^\"\n]+)", self.smsbox_conf,
                      re.M)
        return m.group(1) if m else ""

    def sendsms(self, user, password, to, text, **extra):
        q = {"username": user, "password": password, "to": to,
             "text": text}
        q.update(extra)
        return http_get("http://127.0.0.1:%d/cgi-bin/sendsms?%s"
                        % (self.sendsms_port, urllib.parse.urlencode(q)))
