"""test_wappush.py - WAP push prompts and the web view, end to end.

A binding with prompt mode wap-push gets a WAP push Service Indication
through bearerbox (fakesmsc prints it); the test decodes the UDH, the
WSP push header and the WBXML SI (pmtest.wappush, and Kannel's own
decompile tool), fetches the SI's link, loads it in headless Chromium
(screenshot under the test's output), and checks that forged, expired,
revoked and paused links get the same 404.  The PPG mode sends PAP to a
real wapbox PPG.

One Dovecot and one bearerbox serve the module; every test starts its
own pushmailbox with a web view port.
"""

import itertools
import os
import re
import sqlite3
import struct
import time
import urllib.request
import zlib

from flowlib import SHORTCODE, Env, Peers
from pmtest import Skip, kannel, ports, proc, wappush

PORT_UDH = bytes.fromhex("0605040b8423f0")
WAPBOX = "/usr/sbin/wapbox"


def setup_module(m):
    return Peers(m)


def _wap_pm(env, **settings):
    port = ports.free_port()
    settings.setdefault("http_port", port)
    pm = env.pushmail(**settings)
    pm.http_port = settings["http_port"]
    return pm


def _bind_wap(env, pm):
    user, pw = env.user()
    phone = env.msisdn()
    url = env.dovecot.url(user, "imap", "none")
    rc, out, err = pm.admin("bind", phone, url, "--prompt", "wap-push",
                            stdin=pw + "\n")
    assert rc == 0, "bind --prompt wap-push failed: %s" % (err or out)
    env.wait_watching(pm, user, phone)
    return user, phone


def _wait_push(env, phone, count=1, timeout=20):
    """The count-th WAP push to phone (parts joined)."""
    log = env.bb.sink.log_path
    got = []

    def arrived():
        got[:] = wappush.wap_pushes(log, phone)
        return len(got) >= count
    proc.wait_until(arrived, timeout, interval=0.2,
                    what="WAP push %d to %s" % (count, phone))
    return got[count - 1]


def _get(url, timeout=15):
    """(status, headers, body bytes) without raising on 4xx/5xx."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def _check_push(push, phone):
    """The things every prompt SI must have; returns the SI fields."""
    assert push.sender == "1234", push
    # every part carries the WAP push port IE; without bearerbox's
    # concatenation IE the UDH is exactly 0605040B8423F0
    for udh in push.udh_parts:
        ies = wappush.parse_udh(udh)
        assert wappush.ports(ies) == (2948, 9200), udh.hex()
        rest = b"".join(bytes([k, len(v)]) + v for k, v in ies.items()
                        if k not in (0, 8))
        assert bytes([len(rest)]) + rest == PORT_UDH, udh.hex()
    assert push.content_type == "application/vnd.wap.sic", push.wsp
    assert push.wsp["params"].get("charset") == "utf-8", push.wsp
    si = push.si
    assert si["version"] == 2 and si["public_id"] == 5, si
    assert si["tags"] == ["si", "indication"], si
    assert si["action"] == "signal-medium", si
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", si["created"]), si
    assert re.match(r"^[0-9a-f]{32}$", si["si-id"]), si
    return si


def _png(w, h):
    """A w x h RGB gradient as PNG bytes (stdlib only)."""
    rows = b"".join(b"\x00" + b"".join(bytes((x * 255 // w, y * 255 // h,
                                              128)) for x in range(w))
                    for y in range(h))

    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b""))


def _jpeg_size(data):
    """(width, height) from a JPEG's SOF marker."""
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            raise AssertionError("not a JPEG marker at %d" % i)
        marker = data[i + 1]
        ln = struct.unpack(">H", data[i + 2:i + 4])[0]
        if 0xC0 <= marker <= 0xC3:
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return w, h
        i += 2 + ln
    raise AssertionError("no SOF in JPEG")


def test_si_prompt_page_and_browser(t):
    env = Env(t, t.mod)
    pm = _wap_pm(env)
    user, phone = _bind_wap(env, pm)
    env.deliver(user, subject="Lunch tomorrow?", from_name="Ann Lee",
                body="Shall we meet at noon by the fountain?\n\n"
                     "Bring the <plans> & the \"map\".")
    push = _wait_push(env, phone)
    si = _check_push(push, phone)
    assert si["text"] == "Mail 1 from Ann Lee: Lunch tomorrow? - reply " \
        "GET 1", si
    m = re.match(r"^http://127\.0\.0\.1:%d/m/([A-Za-z0-9_-]{32})$"
                 % pm.http_port, si["href"])
    assert m, si["href"]
    token = m.group(1)
    # Kannel's own decompiler reads the same document
    dec = wappush.decompile(push.wbxml, t.out)
    if dec is not None:
        with open(os.path.join(t.out, "si-decompiled.txt"), "w") as f:
            f.write(dec)
        assert token in dec and "Lunch tomorrow?" in dec, dec[-800:]
    # no text prompt as well
    assert not [s for s in env.to(phone) if "GET 1" in s.text
                and s.kind == "text"], env.to(phone)

    status, headers, body = _get(si["href"])
    assert status == 200, (status, body[:300])
    assert headers["Content-Type"].startswith("application/xhtml+xml"), \
        headers
    assert "no-store" in headers["Cache-Control"], headers
    assert headers["Referrer-Policy"] == "no-referrer", headers
    page = body.decode("utf-8")
    assert page.startswith("<?xml"), page[:100]
    assert "-//WAPFORUM//DTD XHTML Mobile 1.2//EN" in page, page[:400]
    assert "<title>Lunch tomorrow?</title>" in page, page
    assert "Shall we meet at noon by the fountain?" in page, page
    assert "Bring the &lt;plans&gt; &amp; the &quot;map&quot;." in page, page
    assert "Ann Lee" in page and "REPLY 1" in page, page
    assert "<script" not in page
    import xml.dom.minidom
    xml.dom.minidom.parseString(body)       # well-formed XML
    # one page only: page 2 does not exist
    assert _get(si["href"] + "?p=2")[0] == 404

    if not wappush.Chromium.available():
        raise Skip("chromium is not installed")
    br = wappush.Chromium(os.path.join(t.out, "chromium"))
    dom = br.dump_dom(si["href"])
    with open(os.path.join(t.out, "page-dom.html"), "w") as f:
        f.write(dom)
    assert "Shall we meet at noon by the fountain?" in dom, dom[:2000]
    assert "Lunch tomorrow?" in dom and "REPLY 1" in dom, dom[:2000]
    assert "parsererror" not in dom, "Chromium's XML parser refused the " \
        "page: " + dom[:2000]
    shot = br.screenshot(si["href"], os.path.join(t.out, "page.png"))
    assert os.path.getsize(shot) > 2000, "no screenshot"
    with open(shot, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"

    # the token never reaches our logs
    for path in (pm.log_path, os.path.join(pm.out, "pushmailbox.out")):
        if os.path.exists(path):
            with open(path, errors="replace") as f:
                assert token not in f.read(), "token in %s" % path


def test_not_found_is_uniform(t):
    env = Env(t, t.mod)
    pm = _wap_pm(env)
    user, phone = _bind_wap(env, pm)
    env.deliver(user, subject="Secret plans", body="Top secret body")
    si = _check_push(_wait_push(env, phone), phone)
    href = si["href"]
    base = href[:href.rindex("/m/")]
    token = href[-32:]
    assert _get(href)[0] == 200
    forged = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    nf = _get(base + "/no/such/page")
    assert nf[0] == 404, nf
    for url in (base + "/m/" + forged, base + "/m/" + token[:-1],
                base + "/m/" + token + "x", base + "/m/" + forged + "/img/1",
                href + "/img/1", href + "/img/0", href + "/other",
                href + "?p=0", href + "?p=x", base + "/", base + "/m/"):
        st, hd, body = _get(url)
        assert st == 404, (url, st)
        assert body == nf[2], (url, body)
        assert "no-store" in hd["Cache-Control"], hd

    # expired: the store says so (view-lifetime is at least 5 minutes)
    db = sqlite3.connect(pm.db_file, timeout=10)
    db.execute("UPDATE pm_token SET expires = ?", (int(time.time()) - 1,))
    db.commit()
    db.close()
    st, _, body = _get(href)
    assert st == 404 and body == nf[2], (st, body)

    # a new link; pausing the binding hides it, STOP revokes it
    env.deliver(user, subject="Second secret", body="Second body")
    si2 = _check_push(_wait_push(env, phone, 2), phone)
    assert si2["href"] != href
    assert _get(si2["href"])[0] == 200
    rc, out, err = pm.admin("pause", phone)
    assert rc == 0, err
    assert _get(si2["href"])[0] == 404
    rc, out, err = pm.admin("resume", phone)
    assert rc == 0, err
    assert _get(si2["href"])[0] == 200
    start = env.mark()
    env.mo(phone, "STOP")
    env.expect_next(phone, start)          # STOP is answered
    st, _, body = _get(si2["href"])
    assert st == 404 and body == nf[2], "STOP did not hide the link"
    # revoked, not only hidden: START does not bring it back
    start = env.mark()
    env.mo(phone, "START")
    env.expect_next(phone, start)
    st, _, body = _get(si2["href"])
    assert st == 404 and body == nf[2], "STOP did not revoke the link"
    # the tokens are stored only as hashes
    db = sqlite3.connect(pm.db_file, timeout=10)
    hashes = [r[0] for r in db.execute("SELECT hash FROM pm_token")]
    db.close()
    assert token not in hashes and all(len(h) == 64 for h in hashes)


def test_unbind_revokes_and_pictures(t):
    env = Env(t, t.mod)
    pm = _wap_pm(env)
    user, phone = _bind_wap(env, pm)
    png = _png(640, 480)
    raw = ("From: Cam <cam@example.org>\r\nTo: u@example.com\r\n"
           "Subject: Holiday photo\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n"
           "--B\r\nContent-Type: text/plain\r\n\r\nThe beach at dusk.\r\n"
           "--B\r\nContent-Type: image/png\r\nContent-Disposition: "
           "attachment; filename=\"beach.png\"\r\n"
           "Content-Transfer-Encoding: base64\r\n\r\n").encode()
    import base64
    raw += base64.encodebytes(png).replace(b"\n", b"\r\n")
    raw += b"\r\n--B--\r\n"
    env.deliver(user, raw=raw)
    si = _check_push(_wait_push(env, phone), phone)
    st, _, body = _get(si["href"])
    assert st == 200, st
    page = body.decode()
    assert "The beach at dusk." in page and "beach.png" in page, page
    m = re.search(r'<img src="([^"]+)" width="(\d+)" height="(\d+)"', page)
    assert m, page
    assert (int(m.group(2)), int(m.group(3))) == (320, 240), m.groups()
    img_url = urllib.request.urljoin(si["href"], m.group(1))
    st, hd, jpg = _get(img_url)
    assert st == 200 and hd["Content-Type"] == "image/jpeg", (st, hd)
    assert jpg[:2] == b"\xff\xd8" and _jpeg_size(jpg) == (320, 240)
    assert "no-store" in hd["Cache-Control"]
    if wappush.Chromium.available():
        br = wappush.Chromium(os.path.join(t.out, "chromium"))
        br.screenshot(si["href"], os.path.join(t.out, "page-picture.png"))
    rc, out, err = pm.admin("unbind", phone)
    assert rc == 0, err
    assert _get(si["href"])[0] == 404
    assert _get(img_url)[0] == 404


def test_summary_and_paging(t):
    env = Env(t, t.mod)
    port = ports.free_port()
    # public-url with a trailing slash: the link has no "//"
    pm = _wap_pm(env, coalesce_window=4, http_port=port,
                 public_url="http://localhost:%d/" % port)
    user, phone = _bind_wap(env, pm)
    env.deliver(user, subject="First", body="one")
    _wait_push(env, phone, 1)
    words = " ".join("w%03d" % i for i in range(1500))
    env.deliver(user, subject="Second", from_name="Bob Brown", body="two")
    env.deliver(user, subject="Third long", from_name="Bob Brown",
                body=words)
    push = _wait_push(env, phone, 2, timeout=30)
    si = _check_push(push, phone)
    assert si["text"] == "2 more mails, latest from Bob Brown - reply " \
        "LIST", si
    assert re.match(r"^http://localhost:%d/m/[A-Za-z0-9_-]{32}$" % port,
                    si["href"]), si["href"]
    st, _, body = _get(si["href"])
    page = body.decode()
    assert st == 200 and "Third long" in page, page[:500]
    assert 'href="?p=2"' in page, page
    seen, p = page, 1
    while 'href="?p=%d"' % (p + 1) in page and p < 30:
        p += 1
        st, _, body = _get(si["href"] + "?p=%d" % p)
        assert st == 200, (p, st)
        page = body.decode()
        seen += page
    assert p >= 2 and "w1499" in seen
    got = [int(x) for x in re.findall(r"w(\d{3,4})", seen)]
    assert sorted(set(got)) == list(range(1500)), "words lost in paging"


def test_allow_ip(t):
    env = Env(t, t.mod)
    pm = _wap_pm(env, http_allow_ip="10.9.8.7")
    user, phone = _bind_wap(env, pm)
    env.deliver(user, subject="Not for you", body="x")
    si = _check_push(_wait_push(env, phone), phone)
    try:
        st = _get(si["href"])[0]
    except Exception as e:          # closed without a reply
        st = type(e).__name__
    assert st != 200, "a client outside http-allow-ip got the page"
    with open(pm.log_path, errors="replace") as f:
        assert "refused (http-allow-ip)" in f.read()


def test_no_web_view_means_text_prompts(t):
    env = Env(t, t.mod)
    pm = env.pushmail()            # no http-port
    user, phone = _bind_wap(env, pm)
    env.deliver(user, subject="Plain please", body="text")
    env.prompt(phone, "Plain please")
    assert not wappush.wap_pushes(env.bb.sink.log_path, phone)
    with open(pm.log_path, errors="replace") as f:
        assert "asks for WAP push prompts but http-port is not set" in \
            f.read()


# --- the PPG mode -----------------------------------------------------------

class _WapBearerbox(kannel.Bearerbox):
    """A bearerbox with a wapbox port, and Kannel's wapbox running the
    PPG (PAP on ppg_port, user pmppg)."""

    PPG_USER, PPG_PASSWORD = "pmppg", "ppg-secret-1"

    def __init__(self, out_dir, **kw):
        self.wapbox_port, self.ppg_port = ports.free_ports(2)
        self.wapbox = None
        super().__init__(out_dir, name="kannel-ppg", **kw)

    def _write(self):
        super()._write()
        with open(self.conf) as f:
            text = f.read()
        text = text.replace("group = core\n", "group = core\nwapbox-port = "
                            "%d\n" % self.wapbox_port, 1)
        text += """
group = wapbox
bearerbox-host = "127.0.0.1"
log-file = "{out}/wapbox.log"
log-level = 0

group = ppg
ppg-url = "/wappush"
ppg-port = {ppg}
concurrent-pushes = 100
users = 10
ppg-allow-ip = "127.0.0.1"
trusted-pi = false
global-sender = "{sender}"
service-name = "ppg"

group = wap-push-user
wap-push-user = "pushmail"
ppg-username = "{user}"
ppg-password = "{pw}"
allow-ip = "127.0.0.1"
""".format(out=self.out, ppg=self.ppg_port, sender=self.shortcodes[0],
           user=self.PPG_USER, pw=self.PPG_PASSWORD)
        with open(self.conf, "w") as f:
            f.write(text)

    def start_wapbox(self, timeout=20):
        self.wapbox = proc.Proc("wapbox", [WAPBOX, self.conf],
                                os.path.join(self.out, "wapbox.out")).start()
        proc.wait_until(lambda: not self.wapbox.running() or
                        ports.is_listening(self.ppg_port), timeout,
                        what="wapbox's PPG port")
        if not self.wapbox.running():
            raise RuntimeError("wapbox exited:\n" + proc.tail(
                os.path.join(self.out, "wapbox.log")))

    def stop_wapbox(self):
        if self.wapbox:
            self.wapbox.stop(timeout=10)
            self.wapbox = None


class _PpgPeers:
    def __init__(self, t, shared):
        if not os.access(WAPBOX, os.X_OK):
            raise Skip("Kannel's wapbox is not installed")
        self.dovecot = shared.dovecot
        self.bb = _WapBearerbox(t.out, smsbox_id="pushmail",
                                shortcodes=[SHORTCODE])
        t.add_cleanup(self.bb.stop)
        self.bb.start()
        t.add_cleanup(self.bb.stop_wapbox)
        self.bb.start_wapbox()
        t.add_log(os.path.join(self.bb.out, "wapbox.log"))
        self.mariadb = None
        self.dbs = itertools.count(1)


def _ppg_pm(env, ppg_url):
    return _wap_pm(env, wap_push_via="ppg", ppg_url=ppg_url,
                   ppg_username=_WapBearerbox.PPG_USER,
                   ppg_password=_WapBearerbox.PPG_PASSWORD)


def test_ppg_push(t):
    peers = _PpgPeers(t, t.mod)
    env = Env(t, peers)
    bb = peers.bb
    pm = _ppg_pm(env, "http://127.0.0.1:%d/wappush" % bb.ppg_port)
    user, phone = _bind_wap(env, pm)
    env.deliver(user, subject="Via the PPG", from_name="Pat Pi",
                body="Pushed through wapbox.")
    push = _wait_push(env, phone, timeout=30)
    # the PPG compiled our SI itself: same fields, Kannel's WSP header
    assert push.content_type == "application/vnd.wap.sic", push.wsp
    for udh in push.udh_parts:
        assert wappush.ports(wappush.parse_udh(udh))[0] == 2948, udh.hex()
    si = push.si
    assert si["text"] == "Mail 1 from Pat Pi: Via the PPG - reply GET 1", si
    assert re.match(r"^[0-9a-f]{32}$", si["si-id"]), si
    assert si["href"].startswith("http://127.0.0.1:%d/m/" % pm.http_port)
    # the PPG answered 1001, and bearerbox never sent our own copy
    with open(pm.log_path, errors="replace") as f:
        log = f.read()
    assert re.search(r"WAP push for %s accepted by the PPG \(PAP code "
                     r"1001" % re.escape(phone), log), log[-2000:]
    with open(os.path.join(bb.out, "wapbox.log"), errors="replace") as f:
        assert "PPG: Accept request" in f.read()
    assert len(wappush.wap_pushes(bb.sink.log_path, phone)) == 1

    # the PPG's delivery reports come back to our box, to our MT
    def dlr_stored():
        rc, out, err = pm.admin("show", phone)
        return rc == 0 and re.search(r"prompt +accepted +dlr delivered", out)
    proc.wait_until(dlr_stored, 20, what="the PPG push's DLR in the store")
    st, _, body = _get(si["href"])
    assert st == 200 and b"Pushed through wapbox." in body


def test_ppg_down_falls_back_to_sms(t):
    env = Env(t, t.mod)
    dead = ports.free_port()            # nobody listens there
    pm = _ppg_pm(env, "http://127.0.0.1:%d/wappush" % dead)
    user, phone = _bind_wap(env, pm)
    t0 = time.monotonic()
    env.deliver(user, subject="PPG is down", body="still arrives")
    push = _wait_push(env, phone, timeout=30)
    assert time.monotonic() - t0 < 20, "fallback waited for the hold"
    si = _check_push(push, phone)
    assert si["text"].startswith("Mail 1 from"), si
    with open(pm.log_path, errors="replace") as f:
        assert "goes through bearerbox instead" in f.read()
