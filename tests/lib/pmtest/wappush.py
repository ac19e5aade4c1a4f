"""wappush.py - read WAP push SMS as fakesmsc prints them, and look at
pages with headless Chromium.

    pushes = wap_pushes(bb.sink.log_path, "+15550001")   # list of Push
    p = pushes[-1]
    p.udh_ies[5] == b"\\x0b\\x84\\x23\\xf0"    # ports 2948 <- 9200
    p.content_type, p.si["href"], p.si["si-id"], p.si["text"]
    decompile(p.wbxml)                         # Kannel's decompile output
    dom = Chromium(out_dir).dump_dom(url)      # rendered DOM (HTML text)
    Chromium(out_dir).screenshot(url, png_path)

Written from the specifications, not from any implementation:
- UDH (3GPP TS 23.040 9.2.3.24): IE 0x00 concatenation (8-bit ref), 0x08
  (16-bit ref), 0x05 application ports (16-bit: destination, source).
- WSP connectionless Push PDU (WAP-230 8.2.4.1): TID, type 0x06,
  HeadersLen (uintvar), Content-Type then headers, then data.
  Content-Type: a short integer (0x80 | well-known code), a text string,
  or the general form (value length, media, parameters).
- WBXML 1.x (WAP-192) with the SI tokens of WAP-167 9.3.

fakesmsc (kannel-extras) prints each MT as `Got message N: <sender
receiver udh %XX.. data %XX..>`; parts of a concatenated message come as
separate lines, which wap_pushes() joins by their concatenation IE (each
part must carry the port IE too).
"""

import os
import re
import shutil
import subprocess
import tempfile
import urllib.parse

DECOMPILE = "/usr/lib/kannel/test/decompile"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

WAP_PUSH_PORT = 2948
WSP_PUSH = 0x06
# WAP-230 Table 40 (well-known content types) as far as push needs them
CONTENT_TYPES = {
    0x2E: "application/vnd.wap.sic",
    0x2D: "text/vnd.wap.si",
    0x30: "application/vnd.wap.slc",
    0x3E: "application/vnd.wap.mms-message",
}
CHARSETS = {106: "utf-8", 4: "iso-8859-1", 3: "us-ascii"}


class DecodeError(Exception):
    pass


# --- UDH --------------------------------------------------------------------

def parse_udh(udh):
    """{iei: value bytes} of a UDH (first byte = its length)."""
    if not udh or udh[0] + 1 != len(udh):
        raise DecodeError("UDH length byte %r does not match %d bytes"
                          % (udh[:1], len(udh)))
    ies, i = {}, 1
    while i < len(udh):
        if i + 2 > len(udh):
            raise DecodeError("truncated IE in UDH %s" % udh.hex())
        iei, ln = udh[i], udh[i + 1]
        v = udh[i + 2:i + 2 + ln]
        if len(v) != ln:
            raise DecodeError("truncated IE %d in UDH %s" % (iei, udh.hex()))
        ies[iei] = v
        i += 2 + ln
    return ies


def ports(ies):
    """(destination, source) from the 16-bit port IE, or None."""
    v = ies.get(5)
    if v is None or len(v) != 4:
        return None
    return (v[0] << 8) | v[1], (v[2] << 8) | v[3]


def concat(ies):
    """(ref, total, seq) from a concatenation IE, or None."""
    if 0 in ies and len(ies[0]) == 3:
        return tuple(ies[0])
    if 8 in ies and len(ies[8]) == 4:
        v = ies[8]
        return (v[0] << 8) | v[1], v[2], v[3]
    return None


# --- WSP ----------------------------------------------------------------------

def uintvar(b, i):
    v, n = 0, 0
    while True:
        if i >= len(b) or n == 5:
            raise DecodeError("bad uintvar at %d" % i)
        c = b[i]
        i += 1
        n += 1
        v = (v << 7) | (c & 0x7F)
        if not c & 0x80:
            return v, i


def _text_string(b, i):
    end = b.index(0, i)
    s = b[i:end]
    if s[:1] == b"\x7f":            # quote
        s = s[1:]
    return s.decode("ascii", "replace"), end + 1


def _content_type(b, i):
    """(media type, {param: value}, next index) of a Content-type value."""
    c = b[i]
    if c & 0x80:
        return CONTENT_TYPES.get(c & 0x7F, "0x%02x" % (c & 0x7F)), {}, i + 1
    if c >= 32:
        s, j = _text_string(b, i)
        return s, {}, j
    # general form: value length (short, or 31 + uintvar), then media
    if c == 31:
        ln, j = uintvar(b, i + 1)
    else:
        ln, j = c, i + 1
    end = j + ln
    if end > len(b):
        raise DecodeError("content type runs past the headers")
    m = b[j]
    if m & 0x80:
        media, j = CONTENT_TYPES.get(m & 0x7F, "0x%02x" % (m & 0x7F)), j + 1
    else:
        media, j = _text_string(b, j)
    params = {}
    while j < end:
        p = b[j]
        if p == 0x81:               # Charset: well-known short integer
            v = b[j + 1]
            params["charset"] = CHARSETS.get(v & 0x7F, str(v & 0x7F)) \
                if v & 0x80 else str(v)
            j += 2
        else:
            raise DecodeError("unexpected content type parameter 0x%02x" % p)
    return media, params, end


def parse_wsp_push(data):
    """{tid, content_type, params, headers (raw bytes after the content
    type), body} of a connectionless WSP Push PDU."""
    if len(data) < 4:
        raise DecodeError("WSP PDU too short")
    tid, pdu = data[0], data[1]
    if pdu != WSP_PUSH:
        raise DecodeError("PDU type 0x%02x is not Push" % pdu)
    hlen, i = uintvar(data, 2)
    hend = i + hlen
    if hend > len(data):
        raise DecodeError("headers length %d past the PDU" % hlen)
    media, params, j = _content_type(data[:hend], i)
    return {"tid": tid, "content_type": media, "params": params,
            "headers": data[j:hend], "body": data[hend:]}


# --- WBXML SI -----------------------------------------------------------------

SI_ATTR_START = {
    0x05: ("action", "signal-none"), 0x06: ("action", "signal-low"),
    0x07: ("action", "signal-medium"), 0x08: ("action", "signal-high"),
    0x09: ("action", "delete"), 0x0A: ("created", ""),
    0x0B: ("href", ""), 0x0C: ("href", "http://"),
    0x0D: ("href", "http://www."), 0x0E: ("href", "https://"),
    0x0F: ("href", "https://www."), 0x10: ("si-expires", ""),
    0x11: ("si-id", ""), 0x12: ("class", ""),
}
SI_ATTR_VALUE = {0x85: ".com/", 0x86: ".edu/", 0x87: ".net/", 0x88: ".org/"}
SI_TAGS = {0x05: "si", 0x06: "indication", 0x07: "info", 0x08: "item"}


def _opaque_date(v):
    """WAP-167 9.2.2: BCD digits YYYYMMDDhhmmss, trailing zeros cut."""
    digits = v.hex().ljust(14, "0")
    return "%s-%s-%sT%s:%s:%sZ" % (digits[0:4], digits[4:6], digits[6:8],
                                   digits[8:10], digits[10:12],
                                   digits[12:14])


def parse_si(w):
    """Decode a WBXML SI: {version, public_id, charset, tags (list),
    href, si-id, created, action, text, ...}."""
    if len(w) < 4:
        raise DecodeError("WBXML too short")
    out = {"version": w[0], "tags": []}
    i = 1
    out["public_id"], i = uintvar(w, i)
    out["charset"], i = uintvar(w, i)
    stl, i = uintvar(w, i)
    strtbl = w[i:i + stl]
    i += stl
    enc = "utf-8" if out["charset"] == 106 else "latin-1"
    depth, text = 0, []
    attr = None
    in_attrs = False

    def strt(off):
        end = strtbl.index(0, off)
        return strtbl[off:end].decode(enc)

    def add(value):
        if attr is None:
            raise DecodeError("attribute value outside an attribute")
        out[attr] = out.get(attr, "") + value

    while i < len(w):
        c = w[i]
        i += 1
        if c == 0x03:                                   # STR_I
            end = w.index(0, i)
            s = w[i:end].decode(enc)
            i = end + 1
            if in_attrs:
                add(s)
            else:
                text.append(s)
        elif c == 0x83:                                 # STR_T
            off, i = uintvar(w, i)
            if in_attrs:
                add(strt(off))
            else:
                text.append(strt(off))
        elif c == 0xC3:                                 # OPAQUE
            n, i = uintvar(w, i)
            v = w[i:i + n]
            i += n
            if attr in ("created", "si-expires"):
                add(_opaque_date(v))
            else:
                raise DecodeError("opaque data in %r" % attr)
        elif in_attrs:
            if c == 0x01:
                in_attrs, attr = False, None
            elif c in SI_ATTR_START:
                attr, prefix = SI_ATTR_START[c]
                out[attr] = prefix
                if attr == "action":
                    attr = None
            elif c in SI_ATTR_VALUE:
                add(SI_ATTR_VALUE[c])
            else:
                raise DecodeError("unknown attribute token 0x%02x" % c)
        elif c == 0x01:                                 # END
            depth -= 1
            if depth < 0:
                raise DecodeError("END without a tag")
        elif (c & 0x3F) in SI_TAGS:
            out["tags"].append(SI_TAGS[c & 0x3F])
            if c & 0x40:
                depth += 1
            in_attrs = bool(c & 0x80)
        else:
            raise DecodeError("unknown token 0x%02x at %d" % (c, i - 1))
    if depth != 0 or in_attrs:
        raise DecodeError("WBXML ends inside an element")
    out["text"] = " ".join(t.strip() for t in text).strip()
    return out


def decompile(wbxml, out_dir=None):
    """Kannel's own WBXML decompiler (kannel-extras) on the bytes: its
    text output, or None when the tool is not installed."""
    if not os.access(DECOMPILE, os.X_OK):
        return None
    with tempfile.NamedTemporaryFile(dir=out_dir, suffix=".wbxml",
                                     delete=False) as f:
        f.write(wbxml)
        path = f.name
    try:
        cp = subprocess.run([DECOMPILE, path], capture_output=True,
                            timeout=20)
        return cp.stdout.decode("utf-8", "replace") + \
            cp.stderr.decode("utf-8", "replace")
    finally:
        os.unlink(path)


# --- from fakesmsc's log ------------------------------------------------------

_GOT = re.compile(r"Got message \d+: <(\S+) (\S+) udh (\S+) data ([^\s>]*)>")


class Push:
    """One WAP push SMS (parts joined)."""

    def __init__(self, sender, receiver, udh_parts, data):
        self.sender = sender
        self.receiver = receiver
        self.udh_parts = udh_parts          # UDH bytes of every part
        self.parts = len(udh_parts)
        self.udh = udh_parts[0]
        self.udh_ies = parse_udh(self.udh)
        self.data = data                    # the joined WSP PDU
        self.wsp = parse_wsp_push(data)
        self.content_type = self.wsp["content_type"]
        self.wbxml = self.wsp["body"]
        self.si = parse_si(self.wbxml) \
            if self.content_type == "application/vnd.wap.sic" else None

    def __repr__(self):
        return "Push(%s -> %s, %d parts, %s, %r)" % (
            self.sender, self.receiver, self.parts, self.content_type,
            self.si)


def wap_pushes(log_path, msisdn=None):
    """Every WAP push MT (destination port 2948) in fakesmsc's log, in
    order, parts joined; each part's UDH is checked for the port IE."""
    try:
        with open(log_path, "rb") as f:
            text = f.read().decode("utf-8", "surrogateescape")
    except OSError:
        return []
    pushes, partial = [], {}
    for line in text.splitlines():
        m = _GOT.search(line)
        if not m:
            continue
        sender, receiver, udh_q, data_q = m.groups()
        if msisdn is not None and receiver != msisdn:
            continue
        udh = urllib.parse.unquote_to_bytes(udh_q)
        data = urllib.parse.unquote_to_bytes(data_q.replace("+", " "))
        ies = parse_udh(udh)
        if ports(ies) is None or ports(ies)[0] != WAP_PUSH_PORT:
            continue
        c = concat(ies)
        if c is None:
            pushes.append(Push(sender, receiver, [udh], data))
            continue
        ref, total, seq = c
        key = (sender, receiver, ref, total)
        got = partial.setdefault(key, {})
        got[seq] = (udh, data)
        if len(got) == total:
            del partial[key]
            seqs = sorted(got)
            pushes.append(Push(sender, receiver,
                               [got[s][0] for s in seqs],
                               b"".join(got[s][1] for s in seqs)))
    return pushes


# --- headless Chromium ---------------------------------------------------------

class Chromium:
    """Debian's chromium, headless, with a fresh profile per call and no
    background traffic (INTEGRATION.md, "Browsers for page tests")."""

    def __init__(self, out_dir):
        self.out = out_dir
        os.makedirs(out_dir, exist_ok=True)

    @staticmethod
    def available():
        return os.access(CHROMIUM, os.X_OK)

    def _run(self, args, timeout=60):
        profile = tempfile.mkdtemp(prefix="chromium-", dir=self.out)
        argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--user-data-dir=" + profile,
                "--window-size=360,640"] + args
        try:
            cp = subprocess.run(argv, capture_output=True, timeout=timeout)
        finally:
            shutil.rmtree(profile, ignore_errors=True)
        with open(os.path.join(self.out, "chromium.log"), "ab") as f:
            f.write(b"$ " + " ".join(argv).encode() + b"\n" + cp.stderr)
        return cp

    def dump_dom(self, url):
        """The DOM after loading url, serialised (str)."""
        cp = self._run(["--dump-dom", url])
        return cp.stdout.decode("utf-8", "replace")

    def screenshot(self, url, path):
        """Save a 360x640 PNG of the page; returns path."""
        self._run(["--screenshot=" + os.path.abspath(path), url])
        return path
