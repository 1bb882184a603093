"""The wire format and the signature, on literals."""

from __future__ import annotations

import pytest

import sabamon.mcond
from sabamon.mcond.signing import SIGNATURE_HEADER, sign, verify
from sabamon.mcond.wire import broadcast_path, judge


def test_public_names_are_pinned() -> None:
    assert sabamon.mcond.__all__ == [
        "SIGNATURE_HEADER",
        "AsyncMCond",
        "MCond",
        "MCondOption",
        "MCondStateError",
        "UnknownKeyError",
    ]


@pytest.mark.parametrize(
    ("key", "path"),
    [
        ("test", "/cache/broadcast/test"),
        ("a b", "/cache/broadcast/a%20b"),
        ("x?y=1#z", "/cache/broadcast/x%3Fy%3D1%23z"),
        ("100%", "/cache/broadcast/100%25"),
        ("a/b", "/cache/broadcast/a%2Fb"),
        ("日本", "/cache/broadcast/%E6%97%A5%E6%9C%AC"),
    ],
)
def test_keys_are_quoted_and_read_back(key: str, path: str) -> None:
    assert broadcast_path(key) == path
    assert judge(path, {}, None, 0).key == key


@pytest.mark.parametrize(
    ("target", "key"),
    [
        ("/cache/broadcast/x?y=1", "x"),  # what a Go node sends for the raw key "x?y=1"
        ("/cache/broadcast/%41", "A"),
        ("/cache/broadcast/a b", "a b"),
        ("/cache/broadcast/a/b", "a/b"),
        ("/cache/broadcast/", ""),
    ],
)
def test_go_style_raw_targets_read_as_go_reads_them(target: str, key: str) -> None:
    verdict = judge(target, {}, None, 0)
    assert (verdict.status, verdict.body, verdict.key) == (200, b"", key)


def test_other_paths_are_404_with_a_message() -> None:
    verdict = judge("/nope", {}, None, 0)
    assert verdict.status == 404
    assert b'"error": {"message": "no such path' in verdict.body
    assert verdict.key is None


def test_relayed_mark_is_read() -> None:
    assert judge("/cache/broadcast/k", {"x-mcond-relayed": "1"}, None, 0).relayed
    assert not judge("/cache/broadcast/k", {}, None, 0).relayed


NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (sign("s", "/p", NOW), None),
        (sign("s", "/p", NOW - 299), None),
        (None, "missing"),
        ("", "missing"),
        ("garbage", "malformed"),
        ("t=abc,v1=00", "malformed"),
        (sign("s", "/p", NOW - 301), "off"),
        (sign("s", "/p", NOW + 301), "off"),
        (sign("other", "/p", NOW), "does not match"),
        (sign("s", "/q", NOW), "does not match"),
    ],
)
def test_verify(header: str | None, problem: str | None) -> None:
    reason = verify("s", "/p", header, NOW)
    if problem is None:
        assert reason is None
    else:
        assert reason is not None and problem in reason


def test_judge_refuses_unsigned_calls_when_there_is_a_secret() -> None:
    path = "/cache/broadcast/k"
    refused = judge(path, {}, "s", NOW)
    assert refused.status == 401 and refused.key is None
    assert SIGNATURE_HEADER.encode() in refused.body
    signed = {SIGNATURE_HEADER.lower(): sign("s", path, NOW)}
    assert judge(path, signed, "s", NOW).key == "k"
