"""mms.py - decode and check an MM (multipart/related with SMIL) in tests.

    mm = mms.parse_mm(sub.mm, sub.mm_content_type)
    mm.smil                      # SMIL text (str), None when there is none
    for p in mm.parts:           # the MM's direct parts, in order
        p.content_type, p.content_id, p.content_location,
        p.transfer_encoding, p.data          # data: decoded bytes
    mms.smil_refs(mm.smil)       # {"image1.jpg", "text1.txt"} (cid: refs)
    mms.check_mm(sub.mm, sub.mm_content_type, max_size=307200,
                 max_width=640, max_height=480)   # [] when all is well
    mms.image_size(jpeg_bytes)   # (width, height) from the SOF marker

`mm_bytes` is always the MM's body (what follows its own header) and
`content_type` its full Content-Type value (with boundary), as MM7 carries
them.  The MIME splitter here is our own, byte-exact (the stdlib email
package re-folds and re-encodes): split_head(), split_multipart() and
parse_params() are used by mm7peer.py too.  A broken MM raises MmsError;
depth and part count are bounded.
"""

import base64
import binascii
import quopri
import re
import xml.etree.ElementTree as ET

MAX_DEPTH = 8
MAX_PARTS = 200


class MmsError(Exception):
    """The bytes are not a decodable MIME entity."""


# --- low-level MIME ---------------------------------------------------------

def parse_params(value):
    """Split a header value like `multipart/related; type="text/xml";
    start="<a@b>"` into (main value lowercased, {param lowercased: value}).
    Quoted strings may hold ';' and backslash escapes."""
    if value is None:
        return "", {}
    items, cur, quoted, esc = [], [], False, False
    for ch in value:
        if esc:
            cur.append(ch)
            esc = False
        elif quoted and ch == "\\":
            esc = True
        elif ch == '"':
            quoted = not quoted
            cur.append(ch)
        elif ch == ";" and not quoted:
            items.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    items.append("".join(cur))
    main = items[0].strip().lower()
    params = {}
    for it in items[1:]:
        if "=" not in it:
            continue
        k, v = it.split("=", 1)
        k, v = k.strip().lower(), v.strip()
        if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
            v = v[1:-1]
        if k and k not in params:
            params[k] = v
    return main, params


class Headers:
    """An ordered, case-insensitive list of (name, value) header pairs."""

    def __init__(self, pairs=()):
        self.pairs = list(pairs)

    def get(self, name, default=None):
        n = name.lower()
        for k, v in self.pairs:
            if k.lower() == n:
                return v
        return default

    def get_all(self, name):
        n = name.lower()
        return [v for k, v in self.pairs if k.lower() == n]

    def __contains__(self, name):
        return self.get(name) is not None

    def __iter__(self):
        return iter(self.pairs)

    def __len__(self):
        return len(self.pairs)

    def __repr__(self):
        return "Headers(%r)" % self.pairs


def split_head(blob):
    """Split an entity into (Headers, body bytes).  The header ends at the
    first empty line (CRLF or bare LF); folded lines are joined."""
    if blob.startswith(b"\r\n"):
        return Headers(), blob[2:]
    if blob.startswith(b"\n"):
        return Headers(), blob[1:]
    m = re.search(rb"\r?\n\r?\n", blob)
    if m is None:
        head, body = blob, b""
    else:
        head, body = blob[:m.start()], blob[m.end():]
    pairs = []
    for raw in re.split(rb"\r?\n", head):
        line = raw.decode("utf-8", "replace")
        if line[:1] in (" ", "\t") and pairs:
            k, v = pairs[-1]
            pairs[-1] = (k, v + " " + line.strip())
        elif ":" in line:
            k, v = line.split(":", 1)
            pairs.append((k.strip(), v.strip()))
    return Headers(pairs), body


def split_multipart(body, boundary):
    """The parts (bytes, each with its own header) of a multipart body.
    Delimiter lines are `--boundary` and `--boundary--` at a line start,
    optionally followed by blanks; the line break before a delimiter
    belongs to it (RFC 2046).  Raises MmsError when there is no delimiter
    or no closing one."""
    if not boundary:
        raise MmsError("multipart without boundary")
    delim = b"--" + boundary.encode("latin-1", "replace")
    parts = []
    start = None            # offset where the current part starts
    pos = 0
    closed = False
    while True:
        i = body.find(delim, pos)
        if i < 0:
            break
        pos = i + len(delim)
        if i != 0 and body[i - 1:i] != b"\n":
            continue
        rest = body[pos:]
        is_close = rest.startswith(b"--")
        tail = rest[2:] if is_close else rest
        eol = re.match(rb"[ \t]*(\r?\n|$)", tail)
        if eol is None:
            continue            # the boundary is only a prefix of a line
        if start is not None:
            end = i
            if body[end - 2:end] == b"\r\n":
                end -= 2
            elif body[end - 1:end] == b"\n":
                end -= 1
            parts.append(body[start:end])
            if len(parts) > MAX_PARTS:
                raise MmsError("more than %d parts" % MAX_PARTS)
        line_end = pos + (2 if is_close else 0) + eol.end()
        if is_close:
            closed = True
            break
        start = line_end
        pos = line_end
    if start is None and not parts:
        raise MmsError("no delimiter --%s in the body" % boundary)
    if not closed:
        raise MmsError("no closing delimiter --%s--" % boundary)
    return parts


def strip_cid(value):
    """Content-ID value without the angle brackets (None stays None)."""
    if value is None:
        return None
    v = value.strip()
    if v.startswith("<") and v.endswith(">"):
        v = v[1:-1]
    return v


def decode_body(raw, cte):
    """Decode a part body by its Content-Transfer-Encoding."""
    cte = (cte or "").strip().lower()
    if cte == "base64":
        try:
            return base64.b64decode(re.sub(rb"[^A-Za-z0-9+/=]", b"", raw))
        except (binascii.Error, ValueError) as e:
            raise MmsError("bad base64: %s" % e)
    if cte == "quoted-printable":
        return quopri.decodestring(raw)
    return raw


# --- parts -------------------------------------------------------------------

class Part:
    """One MIME entity.  content_type is the full header value, mime_type
    its lowercased main value, params its parameters; content_id is
    without <>; raw is the body as on the wire, data the decoded body;
    parts holds the children of a multipart (else [])."""

    def __init__(self, headers, raw, default_type="text/plain", depth=0):
        self.headers = headers
        self.raw = raw
        self.content_type = headers.get("Content-Type") or default_type
        self.mime_type, self.params = parse_params(self.content_type)
        self.content_id = strip_cid(headers.get("Content-ID"))
        self.content_location = headers.get("Content-Location")
        cte = headers.get("Content-Transfer-Encoding")
        self.transfer_encoding = cte.strip().lower() if cte else None
        self.charset = self.params.get("charset")
        self.parts = []
        if self.mime_type.startswith("multipart/"):
            if depth >= MAX_DEPTH:
                raise MmsError("MIME nesting deeper than %d" % MAX_DEPTH)
            self.data = raw
            for blob in split_multipart(raw, self.params.get("boundary")):
                h, b = split_head(blob)
                self.parts.append(Part(h, b, depth=depth + 1))
        else:
            self.data = decode_body(raw, self.transfer_encoding)

    def text(self, errors="strict"):
        """The decoded body as str, by the declared charset (UTF-8 if
        none)."""
        return self.data.decode(self.charset or "utf-8", errors)

    def leaves(self):
        """Every non-multipart entity below (or self), depth first."""
        if not self.parts:
            return [self]
        out = []
        for p in self.parts:
            out.extend(p.leaves())
        return out

    def __repr__(self):
        return "Part(%s, cid=%r, loc=%r, cte=%r, %d bytes)" % (
            self.mime_type, self.content_id, self.content_location,
            self.transfer_encoding, len(self.data))


class MM(Part):
    """A parsed MM: a Part plus .start (the start parameter, no <>),
    .smil_part and .smil (text, or None)."""

    def __init__(self, mm_bytes, content_type):
        super().__init__(Headers([("Content-Type", content_type)]),
                         mm_bytes)
        self.start = strip_cid(self.params.get("start"))
        self.smil_part = None
        if self.start:
            for p in self.parts:
                if p.content_id == self.start:
                    self.smil_part = p
                    break
        if self.smil_part is None:
            for p in self.parts:
                if p.mime_type == "application/smil":
                    self.smil_part = p
                    break
        self.smil = None
        if self.smil_part is not None and not self.smil_part.parts:
            self.smil = self.smil_part.data.decode("utf-8", "replace")

    def media_parts(self):
        """The direct parts other than the SMIL part."""
        return [p for p in self.parts if p is not self.smil_part]

    def part_by_ref(self, ref):
        """The part a SMIL src names: `cid:X` by Content-ID, anything else
        by Content-Location; None if there is none."""
        if ref.lower().startswith("cid:"):
            cid = ref[4:]
            for p in self.parts:
                if p.content_id == cid:
                    return p
            return None
        for p in self.parts:
            if p.content_location == ref:
                return p
        return None


def parse_mm(mm_bytes, content_type):
    """Parse an MM; raises MmsError when it cannot be split."""
    if isinstance(mm_bytes, str):
        mm_bytes = mm_bytes.encode("utf-8")
    return MM(mm_bytes, content_type)


# --- SMIL ------------------------------------------------------------------

def _local(tag):
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def smil_srcs(smil):
    """Every src attribute value in the SMIL, in document order."""
    try:
        root = ET.fromstring(smil)
        return [e.get("src") for e in root.iter() if e.get("src")]
    except ET.ParseError:
        return re.findall(r"""\bsrc\s*=\s*["']([^"']*)["']""", smil)


def smil_refs(smil):
    """The set of Content-IDs the SMIL refers to with `cid:` srcs (the
    part after "cid:", e.g. {"image1.jpg", "text1.txt"})."""
    return {s[4:] for s in smil_srcs(smil) if s.lower().startswith("cid:")}


def _check_smil(smil, problems):
    """Append to problems what is wrong with the SMIL against the OMA MMS
    SMIL subset: one root-layout, regions Image/Text for img/text, one
    par per slide with at most one img, text and audio each."""
    try:
        root = ET.fromstring(smil)
    except ET.ParseError as e:
        problems.append("SMIL is not well-formed XML: %s" % e)
        return
    if _local(root.tag) != "smil":
        problems.append("SMIL root element is <%s>" % _local(root.tag))
    layouts = [e for e in root.iter() if _local(e.tag) == "root-layout"]
    if len(layouts) != 1:
        problems.append("SMIL has %d root-layout elements (want 1)"
                        % len(layouts))
    regions = {e.get("id") for e in root.iter() if _local(e.tag) == "region"}
    pars = [e for e in root.iter() if _local(e.tag) == "par"]
    if not pars:
        problems.append("SMIL has no <par>")
    want = {"img": "Image", "video": "Image", "text": "Text"}
    for n, par in enumerate(pars, 1):
        kinds = [_local(c.tag) for c in par]
        for k in ("img", "text", "audio", "video"):
            if kinds.count(k) > 1:
                problems.append("SMIL par %d has %d <%s>"
                                % (n, kinds.count(k), k))
        if "img" in kinds and "video" in kinds:
            problems.append("SMIL par %d has both <img> and <video>" % n)
        for c in par:
            k = _local(c.tag)
            reg = c.get("region")
            if k in want:
                if reg != want[k]:
                    problems.append("SMIL <%s> in par %d uses region %r, "
                                    "not %r" % (k, n, reg, want[k]))
                if want[k] not in regions:
                    problems.append("SMIL has no region %r for <%s>"
                                    % (want[k], k))
            if reg is not None and reg not in regions:
                problems.append("SMIL region %r is not defined" % reg)
            if k in ("img", "text", "audio", "video", "ref") and \
                    not c.get("src"):
                problems.append("SMIL <%s> in par %d has no src" % (k, n))


# --- images ------------------------------------------------------------------

_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD,
        0xCE, 0xCF}


def image_size(data):
    """(width, height) of a JPEG (from its SOF marker), PNG or GIF.
    Raises ValueError when it is none of these or is truncated."""
    if data[:2] == b"\xff\xd8":
        i = 2
        n = len(data)
        while i + 4 <= n:
            if data[i] != 0xFF:
                raise ValueError("JPEG: no marker at offset %d" % i)
            marker = data[i + 1]
            if marker == 0xFF:          # fill byte
                i += 1
                continue
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            if marker in (0xD9, 0xDA):
                break                   # EOI / SOS before any SOF
            seglen = (data[i + 2] << 8) | data[i + 3]
            if seglen < 2:
                raise ValueError("JPEG: bad segment length")
            if marker in _SOF:
                if i + 9 > n:
                    break
                h = (data[i + 5] << 8) | data[i + 6]
                w = (data[i + 7] << 8) | data[i + 8]
                return w, h
            i += 2 + seglen
        raise ValueError("JPEG: no SOF marker")
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return (int.from_bytes(data[16:20], "big"),
                int.from_bytes(data[20:24], "big"))
    if data[:4] == b"GIF8" and len(data) >= 10:
        return (int.from_bytes(data[6:8], "little"),
                int.from_bytes(data[8:10], "little"))
    raise ValueError("not a JPEG, PNG or GIF")


def jpeg_is_baseline(data):
    """True when the first SOF marker of a JPEG is SOF0 (baseline)."""
    i = 2
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker in _SOF:
            return marker == 0xC0
        if marker in (0xD9, 0xDA):
            return False
        i += 2 + ((data[i + 2] << 8) | data[i + 3])
    return False


# --- the whole check -------------------------------------------------------

def check_mm(mm_bytes, content_type, max_size=None, max_width=None,
             max_height=None):
    """What is wrong with an MM, as a list of sentences ([] = fine):
    multipart/related with type="application/smil" and a start naming the
    SMIL part; SMIL per _check_smil(); every part referenced by the SMIL
    and every reference resolving; Content-IDs present, unique and no one
    a prefix of another (Mbuni matches by prefix); no quoted-printable;
    no 8-bit data in a part without 8bit/binary encoding; text (and SMIL)
    decodes as UTF-8; images are what their type says and fit
    max_width x max_height; the whole is at most max_size bytes."""
    problems = []
    if max_size is not None and len(mm_bytes) > max_size:
        problems.append("MM is %d bytes, over %d" % (len(mm_bytes), max_size))
    try:
        mm = parse_mm(mm_bytes, content_type)
    except MmsError as e:
        return problems + ["MM cannot be parsed: %s" % e]
    if mm.mime_type != "multipart/related":
        problems.append("MM type is %s, not multipart/related"
                        % mm.mime_type)
    if (mm.params.get("type") or "").lower() != "application/smil":
        problems.append("MM type parameter is %r, not application/smil"
                        % mm.params.get("type"))
    if not mm.start:
        problems.append("MM has no start parameter")
    elif mm.smil_part is None or mm.smil_part.content_id != mm.start:
        problems.append("start <%s> names no part" % mm.start)
    smils = [p for p in mm.parts if p.mime_type == "application/smil"]
    if len(smils) != 1:
        problems.append("MM has %d SMIL parts (want 1)" % len(smils))
    if mm.smil_part is not None and mm.smil_part.mime_type != \
            "application/smil":
        problems.append("start part is %s, not application/smil"
                        % mm.smil_part.mime_type)

    # every entity: encodings, text, images
    for i, p in enumerate(mm.leaves() if mm.parts else [mm], 1):
        where = "part %s" % (p.content_id or p.content_location or i)
        if p.transfer_encoding == "quoted-printable":
            problems.append("%s is quoted-printable" % where)
        elif p.transfer_encoding not in (None, "7bit", "8bit", "binary",
                                         "base64"):
            problems.append("%s has transfer encoding %r"
                            % (where, p.transfer_encoding))
        if p.transfer_encoding in (None, "7bit") and \
                any(b > 127 for b in p.raw):
            problems.append("%s has 8-bit data but encoding %s"
                            % (where, p.transfer_encoding or "7bit (none)"))
        if p.mime_type.startswith("text/") or \
                p.mime_type == "application/smil":
            try:
                p.data.decode("utf-8")
            except UnicodeDecodeError as e:
                problems.append("%s does not decode as UTF-8: %s"
                                % (where, e))
            cs = (p.charset or "").lower()
            if p.mime_type.startswith("text/") and \
                    cs not in ("utf-8", "us-ascii"):
                problems.append("%s declares charset %r, not utf-8"
                                % (where, p.charset))
        if p.mime_type.startswith("image/"):
            try:
                w, h = image_size(p.data)
            except ValueError as e:
                problems.append("%s (%s) is not a readable image: %s"
                                % (where, p.mime_type, e))
            else:
                if p.mime_type in ("image/jpeg", "image/jpg") and \
                        p.data[:2] != b"\xff\xd8":
                    problems.append("%s is labelled %s but is not a JPEG"
                                    % (where, p.mime_type))
                if (max_width and w > max_width) or \
                        (max_height and h > max_height):
                    problems.append("%s is %dx%d, over %sx%s"
                                    % (where, w, h, max_width, max_height))

    # nesting, Content-IDs
    for p in mm.parts:
        if p.parts:
            problems.append("part %s is a nested %s"
                            % (p.content_id, p.mime_type))
    cids = [p.content_id for p in mm.parts]
    for i, c in enumerate(cids):
        if not c:
            problems.append("part %d has no Content-ID" % (i + 1))
    named = [c for c in cids if c]
    for c in sorted(set(named)):
        if named.count(c) > 1:
            problems.append("Content-ID <%s> is used %d times"
                            % (c, named.count(c)))
    uniq = sorted(set(named))
    for a in uniq:
        for b in uniq:
            if a != b and b.startswith(a):
                problems.append("Content-ID <%s> is a prefix of <%s>"
                                % (a, b))

    # SMIL and references
    if mm.smil is not None:
        _check_smil(mm.smil, problems)
        referenced = set()
        for ref in smil_srcs(mm.smil):
            p = mm.part_by_ref(ref)
            if p is None:
                problems.append("SMIL src %r names no part" % ref)
            else:
                referenced.add(id(p))
        for p in mm.media_parts():
            if id(p) not in referenced:
                problems.append("part %s (%s) is not referenced by the SMIL"
                                % (p.content_id or p.content_location,
                                   p.mime_type))
    elif mm.parts:
        problems.append("MM has no SMIL")
    return problems
