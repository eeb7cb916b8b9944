"""What both interfaces share about a request: the head's validation and the safe error answer
(one that reveals nothing of the program)."""

import re

from .json_codec import json_object
from .wire import MAX_HEADERS, ProtocolError

TOKEN_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$")
TARGET_RE = re.compile(r"^[\x21-\x7e]*$")
HEADER_VALUE_RE = re.compile(r"^[^\x00\r\n]*$")
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def parse_request_head(raw):
    head = json_object(raw)
    method = head.get("method")
    path = head.get("path")
    query = head.get("query", "")
    headers = head.get("headers", [])
    if not isinstance(method, str) or not TOKEN_RE.match(method):
        raise ProtocolError("bad_request", "method is not a valid token")
    if not isinstance(path, str) or not path.startswith("/") or len(path) > 65536 or not TARGET_RE.match(path):
        raise ProtocolError("bad_request", "path must start with / and contain no spaces or controls")
    if not isinstance(query, str) or len(query) > 65536 or not TARGET_RE.match(query):
        raise ProtocolError("bad_request", "query must contain no spaces or controls")
    if not isinstance(headers, list) or len(headers) > MAX_HEADERS:
        raise ProtocolError("bad_request", "headers must be a list of at most %d pairs" % MAX_HEADERS)
    clean = []
    for pair in headers:
        if (not isinstance(pair, list) or len(pair) != 2 or not isinstance(pair[0], str)
                or not isinstance(pair[1], str) or not TOKEN_RE.match(pair[0])
                or not HEADER_VALUE_RE.match(pair[1]) or max(map(ord, pair[1]), default=0) > 255):
            raise ProtocolError("bad_request", "a header is not a [name, value] pair of HTTP bytes")
        clean.append((pair[0], pair[1]))
    scheme = head.get("scheme", "http")
    if scheme not in ("http", "https"):
        raise ProtocolError("bad_request", "scheme must be http or https")
    client = head.get("client")
    if client is not None and not (isinstance(client, list) and len(client) == 2
                                   and isinstance(client[0], str) and isinstance(client[1], int)):
        raise ProtocolError("bad_request", "client must be [host, port]")
    request_id = head.get("request_id")
    if request_id is not None and (not isinstance(request_id, str) or not REQUEST_ID_RE.match(request_id)):
        raise ProtocolError("bad_request", "request_id must match [A-Za-z0-9._-]{1,64}")
    return {"method": method, "path": path, "query": query, "headers": clean, "scheme": scheme,
            "client": tuple(client) if client else None, "request_id": request_id}


def safe_error_body(status, request_id):
    reason = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}.get(status, "Error")
    return ("%s (request id: %s)\n" % (reason, request_id)).encode("ascii")


def safe_error_head(status, body, request_id):
    return {"status": status, "headers": [["content-type", "text/plain; charset=utf-8"],
                                          ["content-length", str(len(body))],
                                          ["x-kiln-request-id", request_id]]}

