"""Where each VictoriaMetrics request goes, for a single node or a cluster.

    single node   http://vm:8428                      writes, reads and deletes on one URL
    cluster       http://vminsert:8480/insert/0/prometheus   writes (tenant 0)
                  http://vmselect:8481/select/0/prometheus   reads and deletes (tenant 0)

The cluster paths are VictoriaMetrics' own (docs: Cluster-VictoriaMetrics.md, "URL
format"): vminsert takes `/insert/<accountID>[:<projectID>]/prometheus/api/v1/import/...`,
vmselect answers `/select/<tenant>/prometheus/api/v1/...` and deletes series at
`/delete/<tenant>/prometheus/api/v1/admin/tsdb/delete_series`. A cluster URL may be given
with or without the trailing `/prometheus`. `/health` is at the root of every component.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

_CLUSTER_PATH = re.compile(r"^/(insert|select)/(\d+(?::\d+)?)(?:/prometheus)?/?$")


@dataclass(frozen=True)
class Endpoints:
    """Absolute URLs of the requests the series store makes; `health` lists every component."""

    import_prometheus: str
    query: str
    query_range: str
    series: str
    export: str
    delete_series: str
    health: tuple[str, ...]
    flags: str  # the component that reads (single node, vmselect): its command-line flags
    description: str


def _root(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def _check_http(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"series store {url!r}: expected an http:// or https:// URL")
    if parts.query or parts.fragment:
        raise ValueError(f"series store {url!r}: no query string or fragment expected")


def _prometheus_api(base: str) -> dict[str, str]:
    return {
        "query": f"{base}/api/v1/query",
        "query_range": f"{base}/api/v1/query_range",
        "series": f"{base}/api/v1/series",
        "export": f"{base}/api/v1/export",
    }


def single_node(url: str) -> Endpoints:
    """`http://vm:8428` (a path prefix, as behind a proxy, is kept)."""
    _check_http(url)
    base = url.rstrip("/")
    return Endpoints(
        import_prometheus=f"{base}/api/v1/import/prometheus",
        delete_series=f"{base}/api/v1/admin/tsdb/delete_series",
        health=(f"{base}/health",),
        flags=f"{base}/flags",
        description=f"VictoriaMetrics {_root(url)}",
        **_prometheus_api(base),
    )


def cluster(insert_url: str, select_url: str) -> Endpoints:
    """vminsert's `/insert/<tenant>` URL and vmselect's `/select/<tenant>` URL, same tenant."""
    paths = {}
    for url, role in ((insert_url, "insert"), (select_url, "select")):
        _check_http(url)
        match = _CLUSTER_PATH.match(urlsplit(url).path)
        if match is None or match.group(1) != role:
            raise ValueError(
                f"series store {url!r}: expected a vm{role} URL ending in /{role}/<tenant>"
                f" (for example http://vm{role}:{8480 if role == 'insert' else 8481}"
                f"/{role}/0/prometheus)"
            )
        paths[role] = match.group(2)
    if paths["insert"] != paths["select"]:
        raise ValueError(
            f"series store: vminsert tenant {paths['insert']!r} and vmselect tenant"
            f" {paths['select']!r} differ"
        )
    tenant = paths["insert"]
    insert_root, select_root = _root(insert_url), _root(select_url)
    return Endpoints(
        import_prometheus=f"{insert_root}/insert/{tenant}/prometheus/api/v1/import/prometheus",
        delete_series=f"{select_root}/delete/{tenant}/prometheus/api/v1/admin/tsdb/delete_series",
        health=(f"{insert_root}/health", f"{select_root}/health"),
        flags=f"{select_root}/flags",
        description=f"VictoriaMetrics cluster {insert_root} + {select_root} tenant {tenant}",
        **_prometheus_api(f"{select_root}/select/{tenant}/prometheus"),
    )


def parse_series_store(value: str) -> Endpoints:
    """The `--series-store` value: one single-node URL, or the vminsert and vmselect URLs
    separated by a comma (either order). Raises ValueError with the expected forms."""
    urls = [part.strip() for part in value.split(",") if part.strip()]
    if len(urls) == 1:
        path = urlsplit(urls[0]).path
        if _CLUSTER_PATH.match(path):
            raise ValueError(
                f"series store {urls[0]!r}: a cluster needs both URLs, "
                "http://vminsert:8480/insert/<tenant>/prometheus,"
                "http://vmselect:8481/select/<tenant>/prometheus"
            )
        return single_node(urls[0])
    if len(urls) == 2:
        first, second = urls
        if urlsplit(first).path.startswith("/select"):
            first, second = second, first
        return cluster(first, second)
    raise ValueError(f"series store {value!r}: expected one URL, or two separated by a comma")
