"""Hand-written checks for the hot paths and the name rules the spec sets.

Errors name the JSON index and field, e.g. `[3].value: must be a finite number`.
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from sabamon.server.api.errors import BadRequest
from sabamon.server.store.records import Point
from sabamon.server.text import sanitize as sanitize

METRIC_NAME = re.compile(r"[a-zA-Z0-9._-]+")
SERVICE_OR_ROLE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{1,62}")
NAMESPACE = re.compile(r"[-a-zA-Z0-9_]+")
CHECK_NAME = re.compile(r"[a-zA-Z0-9_-]+")
MAX_METRIC_NAME = 255
MAX_NAMESPACE = 255
"""Characters of a metadata namespace; Mackerel documents none, so metric names' bound."""
MAX_BATCH = 100_000
MIN_DOCUMENT_INT = -(2**63)  # a document's integers: orjson writes signed and unsigned 64 bits
MAX_DOCUMENT_INT = 2**64 - 1
MAX_DOCUMENT_DEPTH = 32
"""Nesting of a stored JSON document (host meta and interfaces, metadata, monitors): deep
enough for any cloud's instance metadata, far below where parsers and serialisers fail."""
MAX_DOCUMENT_BYTES = 1024 * 1024
"""Size of one stored JSON document (host meta, interfaces, metadata) as compact JSON."""
MAX_ROLES_PER_HOST = 100


def _json_int(text: str) -> int | float:
    """An integer literal as orjson reads it: past 64 bits it is a float (inf when too large),
    so no caller meets an integer that `float()` or the JSON encoder cannot take."""
    value = int(text)
    return value if MIN_DOCUMENT_INT <= value <= MAX_DOCUMENT_INT else float(text)


def parse_json(body: bytes) -> Any:
    """The body's JSON value. Text orjson refuses only for its characters (invalid UTF-8,
    a lone surrogate escape) or its numbers (`NaN`, `Infinity`, `1e400`, which clients
    such as Python's json module write) is read again by the stdlib parser with those
    characters replaced by U+FFFD and those numbers as floats, so the point that holds one
    is refused by index and the rest of the batch is stored."""
    if not body.strip():
        raise BadRequest("body: a JSON body is required")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        try:
            return sanitize(json.loads(body.decode("utf-8", errors="replace"), parse_int=_json_int))
        except (ValueError, RecursionError):
            raise BadRequest(f"body: malformed JSON ({exc})") from exc


def read_json(body: bytes, where: str = "body") -> Any:
    """The body's JSON value as the stdlib parser reads it: integers exact (orjson turns
    one past 64 bits into a float), `NaN`, `Infinity` and `1e400` as floats, so that the
    checks after it name where they stand instead of a character offset; invalid UTF-8
    becomes U+FFFD, as in `parse_json`. BadRequest naming `where` when the text is not JSON
    or nests too deep for the parser."""
    if not body.strip():
        raise BadRequest(f"{where}: a JSON body is required")
    try:
        return json.loads(body.decode("utf-8", errors="replace"))
    except RecursionError:
        raise BadRequest(f"{where}: must nest at most {MAX_DOCUMENT_DEPTH} levels deep") from None
    except ValueError as exc:  # JSONDecodeError, or an integer of over 4,300 digits
        raise BadRequest(f"{where}: malformed JSON ({exc})") from None


def parse_document(body: bytes, where: str = "body") -> Any:
    """A JSON document to store (metadata, monitors, channels ...): `read_json`, then
    `check_document` (characters, depth, size, numbers)."""
    return check_document(read_json(body, where), where)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@functools.lru_cache(maxsize=65536)
def is_metric_name(value: str) -> bool:
    """Cached: agents post the same few hundred names every minute."""
    return len(value) <= MAX_METRIC_NAME and METRIC_NAME.fullmatch(value) is not None


class Refused(Exception):
    """One item of a batch the API will not store: its index, the faulty field (`point`
    when the item itself is wrong) and why; `array` names the batch's field, if any."""

    def __init__(self, index: int, field: str, reason: str, array: str = "") -> None:
        where = f"{array}[{index}]" + (f".{field}" if field != "point" else "")
        super().__init__(f"{where}: {reason}")
        self.index = index
        self.field = field
        self.reason = reason


@dataclass
class ParsedPoints:
    """A points body split into what can be stored (with each point's index in the body)
    and what is refused, in index order."""

    points: list[Point] = field(default_factory=list)
    indexes: list[int] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)

    def keep(self, index: int, point: Point) -> None:
        self.points.append(point)
        self.indexes.append(index)


def metric_name_fault(value: Any) -> str | None:
    if not isinstance(value, str):
        return "must be a string"
    if not is_metric_name(value):
        return f"must match [a-zA-Z0-9._-]+ (at most {MAX_METRIC_NAME} chars)"
    return None


def check_array(payload: Any, what: str) -> list[Any]:
    if not isinstance(payload, list):
        raise BadRequest(f"body: must be a JSON array of {what}")
    if len(payload) > MAX_BATCH:
        raise BadRequest(f"body: at most {MAX_BATCH} {what} per request")
    return payload


def host_points(payload: Any) -> ParsedPoints:
    """POST /api/v0/tsdb: [{"hostId", "name", "time", "value"}] → the storable points and
    the refused ones; BadRequest only when the body is not an array of points at all.

    The common shape (string id and name, integer time, number value) is checked inline;
    anything else goes through `point_from`, which accepts or names the fault. A time is
    any finite number (a float is truncated, as the live API does); whether it falls in
    the accepted window is the write's business, not a refusal.
    """
    parsed = ParsedPoints()
    points, indexes = parsed.points, parsed.indexes  # `keep` inlined: a call per point
    for index, item in enumerate(check_array(payload, "points")):
        try:
            host_id, name, at, value = item["hostId"], item["name"], item["time"], item["value"]
        except (TypeError, KeyError):
            point_from(parsed, index, item, "hostId")
            continue
        if (
            type(host_id) is str
            and host_id
            and "\x00" not in host_id
            and type(name) is str
            and is_metric_name(name)
            and type(at) is int
            and (type(value) is float or type(value) is int)
            and math.isfinite(value)
        ):
            points.append(Point(host_id, name, at, float(value)))
            indexes.append(index)
        else:
            point_from(parsed, index, item, "hostId")
    return parsed


def service_points(payload: Any) -> ParsedPoints:
    """POST /api/v0/services/<svc>/tsdb: [{"name", "time", "value"}]; points carry an empty
    owner, set by the caller."""
    parsed = ParsedPoints()
    for index, item in enumerate(check_array(payload, "points")):
        point_from(parsed, index, item, None)
    return parsed


def point_from(parsed: ParsedPoints, index: int, item: Any, owner_field: str | None) -> None:
    """One posted point checked field by field: appended to the points, or to the refused
    with the first faulty field named."""
    try:
        if not isinstance(item, dict):
            raise Refused(index, "point", "must be an object")
        owner: Any = ""
        if owner_field is not None:
            owner = item.get(owner_field)
            if not isinstance(owner, str) or not owner or "\x00" in owner:
                raise Refused(index, owner_field, "must be a host id string")
        name: Any = item.get("name")
        fault = metric_name_fault(name)
        if fault is not None:
            raise Refused(index, "name", fault)
        at: Any = item.get("time")
        if not is_number(at) or not math.isfinite(at):
            raise Refused(index, "time", "must be epoch seconds")
        value: Any = item.get("value")
        if not is_number(value) or not math.isfinite(value):
            raise Refused(index, "value", "must be a finite number")
    except Refused as refused:
        parsed.refused.append(refused)
        return
    parsed.keep(index, Point(owner, name, int(at), float(value)))


@dataclass(frozen=True)
class DocumentProblem:
    """Why a document cannot be stored: `path` inside it (`.a[2].b`, empty for the whole
    document) and the reason."""

    path: str
    reason: str


PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")
PathNode = tuple["PathNode", str | int] | None
"""A place inside a document as (parent's place, key or index); None is the document."""


def describe_path(node: PathNode) -> str:
    """(((None, "a"), 2), "b c") → '.a[2]["b c"]'."""
    parts: list[str] = []
    while node is not None:
        node, key = node
        if isinstance(key, int):
            parts.append(f"[{key}]")
        elif PLAIN_KEY.fullmatch(key):
            parts.append(f".{key}")
        else:
            parts.append(f"[{orjson.dumps(key).decode()}]")
    return "".join(reversed(parts))


def document_problem(value: Any) -> DocumentProblem | None:
    """Why `value` cannot be stored as a document (too deep, too large, a number the JSON
    encoder cannot write back: an integer past 64 bits, NaN or an infinity, which the
    stdlib parser reads from `NaN`, `Infinity` or `1e400` and orjson would store as null),
    or None. Walks the value without recursion, so a hostile depth costs no stack."""
    pending: list[tuple[Any, int, PathNode]] = [(value, 1, None)]
    while pending:
        item, depth, node = pending.pop()
        if isinstance(item, int) and not MIN_DOCUMENT_INT <= item <= MAX_DOCUMENT_INT:
            reason = "integers must fit in 64 bits (use a string for larger numbers)"
            return DocumentProblem(describe_path(node), reason)
        if isinstance(item, float) and not math.isfinite(item):
            reason = "must be a finite number (NaN, Infinity and 1e400 are not storable)"
            return DocumentProblem(describe_path(node), reason)
        if isinstance(item, dict | list):
            if depth > MAX_DOCUMENT_DEPTH:
                reason = f"must nest at most {MAX_DOCUMENT_DEPTH} levels deep"
                return DocumentProblem(describe_path(node), reason)
            children = item.items() if isinstance(item, dict) else enumerate(item)
            pending.extend((child, depth + 1, (node, key)) for key, child in children)
    if len(orjson.dumps(value)) > MAX_DOCUMENT_BYTES:
        return DocumentProblem("", f"must be at most {MAX_DOCUMENT_BYTES} bytes as JSON")
    return None


def storable_document(value: Any) -> tuple[Any, DocumentProblem | None]:
    """`value` with the characters no backend can store (NUL, lone surrogates) replaced by
    U+FFFD as in every other text, and why it cannot be stored (`document_problem`)."""
    try:  # the walk refuses a hostile depth before `sanitize` recurses into it
        problem = document_problem(value)
    except TypeError:  # a lone surrogate, which the JSON encoder cannot write
        problem = None
    if problem is None:
        value = sanitize(value)
        problem = document_problem(value)
    return value, problem


def check_document(value: Any, where: str) -> Any:
    """`storable_document`'s value, or BadRequest naming `where` and the place inside it
    (`body.a[2]: must be a finite number ...`)."""
    value, problem = storable_document(value)
    if problem is not None:
        raise BadRequest(f"{where}{problem.path}: {problem.reason}")
    return value


def check_service_or_role_name(value: str, where: str) -> str:
    if not SERVICE_OR_ROLE_NAME.fullmatch(value):
        raise BadRequest(f"{where}: must be 2-63 of [A-Za-z0-9_-], starting with a letter or digit")
    return value


def role_fullname(value: str, where: str) -> str:
    """'svc: role' → 'svc:role', or BadRequest. Both names follow POST /services' rule
    (2-63 of [A-Za-z0-9_-]), since a role fullname creates its service and role."""
    service, sep, role = value.partition(":")
    service, role = service.strip(), role.strip()
    if (
        not sep
        or not SERVICE_OR_ROLE_NAME.fullmatch(service)
        or not SERVICE_OR_ROLE_NAME.fullmatch(role)
    ):
        raise BadRequest(
            f"{where}: must be 'service:role', each 2-63 of [A-Za-z0-9_-] starting with a"
            " letter or digit"
        )
    return f"{service}:{role}"


def check_namespace(value: str) -> str:
    if not NAMESPACE.fullmatch(value):
        raise BadRequest("namespace: must match [-a-zA-Z0-9_]+")
    if len(value) > MAX_NAMESPACE:
        raise BadRequest(f"namespace: must be at most {MAX_NAMESPACE} characters")
    if value.startswith("mackerel"):
        raise BadRequest("namespace: the prefix 'mackerel' is reserved")
    return value
