"""JSON. The json module is preferred; python3-minimal lacks it, hence the small codec, which is
strict (RFC 8259), bounded in depth and produces ASCII only."""

import re

try:
    import json as _json
except ImportError:
    _json = None

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b",
            "\f": "\\f"}
_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\\x7f-\U0010ffff]')
_UNESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r",
              "t": "\t"}
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_PLAIN = re.compile(r'[^"\\\x00-\x1f]*')
_WS = re.compile(r"[ \t\n\r]*")
_HEX4 = re.compile(r"^[0-9a-fA-F]{4}$")
MAX_JSON_DEPTH = 64


class JsonError(ValueError):
    pass


def _escape_char(match):
    ch = match.group()
    esc = _ESCAPES.get(ch)
    if esc:
        return esc
    code = ord(ch)
    if code < 0x10000:
        return "\\u%04x" % code
    code -= 0x10000
    return "\\u%04x\\u%04x" % (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF))


def _mini_encode(value, out, depth):
    if depth > MAX_JSON_DEPTH:
        raise JsonError("nesting too deep")
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append('"' + _NEEDS_ESCAPE.sub(_escape_char, value) + '"')
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise JsonError("NaN and infinities are not JSON")
        out.append(repr(value))
    elif isinstance(value, dict):
        out.append("{")
        first = True
        for key, item in value.items():
            if not isinstance(key, str):
                raise JsonError("object keys must be strings")
            if not first:
                out.append(",")
            first = False
            _mini_encode(key, out, depth + 1)
            out.append(":")
            _mini_encode(item, out, depth + 1)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _mini_encode(item, out, depth + 1)
        out.append("]")
    else:
        raise JsonError("not JSON-serialisable: %s" % type(value).__name__)


def mini_dumps(value):
    out = []
    _mini_encode(value, out, 0)
    return "".join(out)


class _MiniParser:
    def __init__(self, text):
        self.s = text
        self.i = 0

    def fail(self, what):
        raise JsonError("%s at offset %d" % (what, self.i))

    def ws(self):
        self.i = _WS.match(self.s, self.i).end()

    def value(self, depth):
        if depth > MAX_JSON_DEPTH:
            self.fail("nesting too deep")
        self.ws()
        s, i = self.s, self.i
        if i >= len(s):
            self.fail("unexpected end")
        c = s[i]
        if c == "{":
            return self.obj(depth)
        if c == "[":
            return self.arr(depth)
        if c == '"':
            return self.string()
        if s.startswith("true", i):
            self.i = i + 4
            return True
        if s.startswith("false", i):
            self.i = i + 5
            return False
        if s.startswith("null", i):
            self.i = i + 4
            return None
        m = _NUMBER.match(s, i)
        if not m or m.end() == i:
            self.fail("unexpected character")
        self.i = m.end()
        if m.group(1) or m.group(2):
            return float(m.group())
        return int(m.group())

    def obj(self, depth):
        self.i += 1
        result = {}
        self.ws()
        if self.s.startswith("}", self.i):
            self.i += 1
            return result
        while True:
            self.ws()
            if not self.s.startswith('"', self.i):
                self.fail("expected a string key")
            key = self.string()
            self.ws()
            if not self.s.startswith(":", self.i):
                self.fail("expected ':'")
            self.i += 1
            result[key] = self.value(depth + 1)
            self.ws()
            if self.s.startswith(",", self.i):
                self.i += 1
                continue
            if self.s.startswith("}", self.i):
                self.i += 1
                return result
            self.fail("expected ',' or '}'")

    def arr(self, depth):
        self.i += 1
        result = []
        self.ws()
        if self.s.startswith("]", self.i):
            self.i += 1
            return result
        while True:
            result.append(self.value(depth + 1))
            self.ws()
            if self.s.startswith(",", self.i):
                self.i += 1
                continue
            if self.s.startswith("]", self.i):
                self.i += 1
                return result
            self.fail("expected ',' or ']'")

    def string(self):
        s = self.s
        i = self.i + 1
        parts = []
        while True:
            m = _PLAIN.match(s, i)
            parts.append(m.group())
            i = m.end()
            if i >= len(s):
                self.i = i
                self.fail("unterminated string")
            c = s[i]
            if c == '"':
                self.i = i + 1
                return "".join(parts)
            if c != "\\":
                self.i = i
                self.fail("control character in string")
            e = s[i + 1:i + 2]
            if e in _UNESCAPES:
                parts.append(_UNESCAPES[e])
                i += 2
                continue
            if e != "u" or not _HEX4.match(s[i + 2:i + 6]):
                self.i = i
                self.fail("bad escape")
            code = int(s[i + 2:i + 6], 16)
            i += 6
            if 0xD800 <= code < 0xDC00 and s[i:i + 2] == "\\u" and _HEX4.match(s[i + 2:i + 6]):
                low = int(s[i + 2:i + 6], 16)
                if 0xDC00 <= low < 0xE000:
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
            parts.append(chr(code))


def mini_loads(text):
    parser = _MiniParser(text)
    value = parser.value(0)
    parser.ws()
    if parser.i != len(text):
        parser.fail("trailing data")
    return value


def json_dumps(value):
    if _json is not None:
        return _json.dumps(value, ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode("ascii")
    return mini_dumps(value).encode("ascii")


def json_loads(data):
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError as e:
        raise JsonError("not UTF-8: %s" % e)
    if _json is not None:
        try:
            return _json.loads(text)
        except (ValueError, RecursionError) as e:
            raise JsonError(str(e))
    return mini_loads(text)


def json_object(data):
    value = json_loads(data)
    if not isinstance(value, dict):
        raise JsonError("expected a JSON object")
    return value

