"""Which cloud this host runs on, its instance metadata and its custom identifier.

No request leaves the host unless a local file proves the cloud (DMI strings under /sys, or
the Xen hypervisor UUID) or the config names the platform outright: probing the metadata
address on an ordinary machine would send traffic to whatever answers there.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sabamon.agent.http11 import HttpConnection, HttpError, Response

log = logging.getLogger(__name__)

PLATFORMS = ("auto", "", "none", "ec2", "gce", "azurevm")
_EC2_META_KEYS = (
    "instance-id",
    "instance-type",
    "placement/availability-zone",
    "security-groups",
    "ami-id",
    "hostname",
    "local-hostname",
    "public-hostname",
    "local-ipv4",
    "public-ipv4",
    "reservation-id",
)
_AZURE_META_KEYS = (
    "location",
    "name",
    "offer",
    "osType",
    "platformFaultDomain",
    "platformUpdateDomain",
    "publisher",
    "sku",
    "version",
    "vmId",
    "vmSize",
)
_AZURE_ASSET_TAG = "7783-7084-3265-9085-8269-3286-77"


@dataclass(frozen=True)
class CloudEndpoints:
    """Metadata service base URLs; tests point them at a loopback server."""

    ec2: str = "http://169.254.169.254"
    gce: str = "http://metadata.google.internal."
    azure: str = "http://169.254.169.254"


@dataclass(frozen=True)
class CloudInfo:
    provider: str  # "ec2", "gce" or "AzureVM", as the host's `meta.cloud.provider`
    custom_identifier: str
    metadata: dict[str, str] = field(default_factory=dict)


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:  # absent, or readable by root only (product_uuid)
        return ""


def _read_dmi(sys_root: Path, name: str) -> str:
    return _read(sys_root / "devices/virtual/dmi/id" / name)


def _is_ec2_uuid(uuid: str) -> bool:
    """EC2 UUIDs start with `ec2`; some firmware shows the first group byte-swapped."""
    head = uuid[:8].lower()
    swapped = "".join(reversed([head[i : i + 2] for i in range(0, len(head), 2)]))
    return head.startswith("ec2") or swapped.startswith("ec2")


def local_cloud_evidence(sys_root: Path = Path("/sys")) -> str | None:
    """The platform ("ec2", "gce", "azurevm") that local files prove, or None."""
    uuids = (_read(sys_root / "hypervisor/uuid"), _read_dmi(sys_root, "product_uuid"))
    vendor = _read_dmi(sys_root, "sys_vendor")
    board_vendor = _read_dmi(sys_root, "board_vendor")
    if any(_is_ec2_uuid(uuid) for uuid in uuids) or "Amazon EC2" in (vendor, board_vendor):
        return "ec2"
    if vendor == "Google" or _read_dmi(sys_root, "product_name") == "Google Compute Engine":
        return "gce"
    microsoft = "Microsoft Corporation" in (vendor, board_vendor)
    if microsoft and _read_dmi(sys_root, "chassis_asset_tag") == _AZURE_ASSET_TAG:
        return "azurevm"
    return None


def detect_cloud(
    platform: str,
    *,
    sys_root: Path = Path("/sys"),
    endpoints: CloudEndpoints | None = None,
    timeout: float = 3.0,
) -> CloudInfo | None:
    """Probe the platform the config names, or with `auto` the one local files prove."""
    if platform not in PLATFORMS:
        raise ValueError(
            f"cloud_platform: {platform!r} is not one of auto, none, ec2, gce, azurevm"
        )
    chosen = local_cloud_evidence(sys_root) if platform in ("auto", "") else platform
    if chosen in (None, "none"):
        return None
    urls = endpoints or CloudEndpoints()
    probe, base = {
        "ec2": (_probe_ec2, urls.ec2),
        "gce": (_probe_gce, urls.gce),
        "azurevm": (_probe_azure, urls.azure),
    }[chosen]
    client = HttpConnection(base.rstrip("/"), timeout=timeout)  # never through a proxy
    try:
        return probe(client)
    except (HttpError, ValueError, KeyError) as error:
        log.warning("event=cloud_probe_failed platform=%s error=%r", chosen, error)
        return None
    finally:
        client.close()


def _text(response: Response) -> str:
    return response.body.decode("utf-8", "replace")


def _get_json(client: HttpConnection, path: str, headers: dict[str, str]) -> dict[str, Any] | None:
    """The JSON object at `path`, or None where the service answers other than 200."""
    response = client.request("GET", path, headers)
    if response.status != 200:
        return None
    document: dict[str, Any] = json.loads(response.body)
    return document


def _probe_ec2(client: HttpConnection) -> CloudInfo | None:
    headers = {}
    try:  # IMDSv2 when the service offers a token, IMDSv1 otherwise
        token = client.request(
            "PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": "21600"}
        )
        if token.status == 200:
            headers["X-aws-ec2-metadata-token"] = _text(token)
    except HttpError:
        pass

    def get(key: str) -> str | None:
        response = client.request("GET", f"/latest/meta-data/{key}", headers)
        return _text(response) if response.status == 200 else None

    if not (get("services/partition") or "").startswith("aws"):
        return None
    metadata = {key: value for key in _EC2_META_KEYS if (value := get(key))}
    instance_id = metadata.get("instance-id")
    if not instance_id:
        return None
    return CloudInfo("ec2", f"{instance_id}.ec2.amazonaws.com", metadata)


def _probe_gce(client: HttpConnection) -> CloudInfo | None:
    document = _get_json(
        client, "/computeMetadata/v1/?recursive=true", {"Metadata-Flavor": "Google"}
    )
    if document is None:
        return None
    instance, project = document["instance"], document.get("project", {})
    metadata = {
        "hostname": str(instance.get("hostname", "")),
        "instance-id": str(instance["id"]),
        "instance-type": str(instance.get("machineType", "")).rsplit("/", 1)[-1],
        "zone": str(instance.get("zone", "")).rsplit("/", 1)[-1],
        "projectId": str(project.get("projectId", "")),
    }
    metadata = {key: value for key, value in metadata.items() if value}
    return CloudInfo("gce", f"{metadata['instance-id']}.gce.cloud.google.com", metadata)


def _probe_azure(client: HttpConnection) -> CloudInfo | None:
    compute = _get_json(
        client, "/metadata/instance/compute?api-version=2017-04-02", {"Metadata": "true"}
    )
    if compute is None:
        return None
    metadata = {key: str(compute[key]) for key in _AZURE_META_KEYS if compute.get(key)}
    vm_id = metadata["vmId"]
    return CloudInfo("AzureVM", f"{vm_id}.virtual_machine.azure.microsoft.com", metadata)
