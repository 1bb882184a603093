import json
import os
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from sabamon.agent.cloud import CloudEndpoints, detect_cloud, local_cloud_evidence
from sabamon.agent.hostspec import HostSpecOptions, build_host_spec, find_cloud_custom_identifier

TOKEN = "imds-token"
EC2_META = {
    "services/partition": "aws",
    "instance-id": "i-0123456789abcdef0",
    "instance-type": "t3.micro",
    "placement/availability-zone": "ap-northeast-1a",
    "local-ipv4": "10.0.0.5",
}
GCE_DOCUMENT = {
    "instance": {
        "hostname": "web-1.c.proj.internal",
        "id": 4711,
        "machineType": "projects/99/machineTypes/e2-small",
        "zone": "projects/99/zones/asia-northeast1-b",
    },
    "project": {"projectId": "proj"},
}
AZURE_COMPUTE = {"location": "japaneast", "vmId": "5c08b38e-4d57", "vmSize": "Standard_B1s"}


class MetadataServer(ThreadingHTTPServer):
    """A loopback stand-in for the metadata addresses, serving all three clouds."""

    imds_v2 = True
    requests: list[tuple[str, str, dict[str, str]]]


class MetadataHandler(BaseHTTPRequestHandler):
    server: MetadataServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self, status: int, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self) -> None:
        self.server.requests.append(("PUT", self.path, dict(self.headers)))
        if self.path == "/latest/api/token" and self.server.imds_v2:
            self._answer(200, TOKEN)
        else:
            self._answer(403, "")

    def do_GET(self) -> None:
        self.server.requests.append(("GET", self.path, dict(self.headers)))
        if self.path.startswith("/latest/meta-data/"):
            key = self.path.removeprefix("/latest/meta-data/")
            authorised = (
                not self.server.imds_v2 or self.headers["X-aws-ec2-metadata-token"] == TOKEN
            )
            if key in EC2_META and authorised:
                return self._answer(200, EC2_META[key])
            return self._answer(401 if not authorised else 404, "")
        gce = self.headers["Metadata-Flavor"] == "Google"
        if self.path == "/computeMetadata/v1/?recursive=true" and gce:
            return self._answer(200, json.dumps(GCE_DOCUMENT))
        azure = self.headers["Metadata"] == "true"
        if self.path == "/metadata/instance/compute?api-version=2017-04-02" and azure:
            return self._answer(200, json.dumps(AZURE_COMPUTE))
        self._answer(404, "")


@pytest.fixture
def metadata() -> Iterator[MetadataServer]:
    server = MetadataServer(("127.0.0.1", 0), MetadataHandler)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def endpoints_of(server: MetadataServer) -> CloudEndpoints:
    base = f"http://127.0.0.1:{server.server_address[1]}"
    return CloudEndpoints(ec2=base, gce=base, azure=base)


def fake_sys(root: Path, **dmi: str) -> Path:
    folder = root / "devices/virtual/dmi/id"
    folder.mkdir(parents=True)
    for name, text in dmi.items():
        (folder / name).write_text(text + "\n")
    return root


def test_this_machine_proves_no_cloud() -> None:
    assert local_cloud_evidence(Path("/sys")) is None


def test_auto_without_local_evidence_sends_nothing(
    tmp_path: Path, metadata: MetadataServer
) -> None:
    sys_root = fake_sys(tmp_path, sys_vendor="QEMU", product_name="Standard PC")
    assert detect_cloud("auto", sys_root=sys_root, endpoints=endpoints_of(metadata)) is None
    assert detect_cloud("", sys_root=sys_root, endpoints=endpoints_of(metadata)) is None
    assert metadata.requests == []


def test_none_disables_detection_even_on_ec2(tmp_path: Path, metadata: MetadataServer) -> None:
    sys_root = fake_sys(tmp_path, product_uuid="ec2e1916-9099-7caf-fd21-012345678901")
    assert (
        find_cloud_custom_identifier("none", sys_root=sys_root, endpoints=endpoints_of(metadata))
        is None
    )
    assert metadata.requests == []


@pytest.mark.parametrize(
    ("dmi", "expected"),
    [
        ({"product_uuid": "EC2E1916-9099-7CAF-FD21-012345678901"}, "ec2"),
        ({"product_uuid": "45E12AEC-DCD1-B213-94ED-012345678901"}, "ec2"),  # byte-swapped
        ({"sys_vendor": "Amazon EC2"}, "ec2"),
        ({"product_name": "Google Compute Engine", "sys_vendor": "Google"}, "gce"),
        (
            {
                "sys_vendor": "Microsoft Corporation",
                "chassis_asset_tag": "7783-7084-3265-9085-8269-3286-77",
            },
            "azurevm",
        ),
        ({"sys_vendor": "Microsoft Corporation", "product_name": "Virtual Machine"}, None),
    ],
)
def test_local_evidence(tmp_path: Path, dmi: dict[str, str], expected: str | None) -> None:
    assert local_cloud_evidence(fake_sys(tmp_path, **dmi)) == expected


def test_xen_hypervisor_uuid_proves_ec2(tmp_path: Path) -> None:
    (tmp_path / "hypervisor").mkdir()
    (tmp_path / "hypervisor/uuid").write_text("ec2d6a94-2d4e-6b4d-0b6f-9e0bb3f7ab1c\n")
    assert local_cloud_evidence(tmp_path) == "ec2"


@pytest.mark.parametrize("imds_v2", [True, False])
def test_ec2_probe(tmp_path: Path, metadata: MetadataServer, imds_v2: bool) -> None:
    metadata.imds_v2 = imds_v2
    sys_root = fake_sys(tmp_path, sys_vendor="Amazon EC2")
    info = detect_cloud("auto", sys_root=sys_root, endpoints=endpoints_of(metadata))
    assert info is not None
    assert info.provider == "ec2"
    assert info.custom_identifier == "i-0123456789abcdef0.ec2.amazonaws.com"
    assert info.metadata == {key: v for key, v in EC2_META.items() if key != "services/partition"}
    assert metadata.requests[0][:2] == ("PUT", "/latest/api/token")
    assert metadata.requests[0][2]["X-aws-ec2-metadata-token-ttl-seconds"] == "21600"


def test_ec2_partition_must_be_aws(tmp_path: Path, metadata: MetadataServer) -> None:
    EC2_META["services/partition"] = "not-aws"
    try:
        assert detect_cloud("ec2", sys_root=tmp_path, endpoints=endpoints_of(metadata)) is None
    finally:
        EC2_META["services/partition"] = "aws"


def test_gce_probe(tmp_path: Path, metadata: MetadataServer) -> None:
    sys_root = fake_sys(tmp_path, product_name="Google Compute Engine")
    info = detect_cloud("auto", sys_root=sys_root, endpoints=endpoints_of(metadata))
    assert info is not None
    assert info.custom_identifier == "4711.gce.cloud.google.com"
    assert info.metadata == {
        "hostname": "web-1.c.proj.internal",
        "instance-id": "4711",
        "instance-type": "e2-small",
        "zone": "asia-northeast1-b",
        "projectId": "proj",
    }


def test_azure_probe_when_configured(tmp_path: Path, metadata: MetadataServer) -> None:
    info = detect_cloud("azurevm", sys_root=tmp_path, endpoints=endpoints_of(metadata))
    assert info is not None
    assert info.provider == "AzureVM"
    assert info.custom_identifier == "5c08b38e-4d57.virtual_machine.azure.microsoft.com"
    assert info.metadata == AZURE_COMPUTE


def test_unreachable_metadata_service_is_no_cloud(tmp_path: Path) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    closed = CloudEndpoints(gce=f"http://127.0.0.1:{port}")
    assert detect_cloud("gce", sys_root=tmp_path, endpoints=closed, timeout=1.0) is None


def test_unknown_platform_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"cloud_platform: 'aws'"):
        detect_cloud("aws")


def test_host_spec_of_this_machine(tmp_path: Path, metadata: MetadataServer) -> None:
    checks = [{"name": "ssh", "memo": "port 22"}, {"name": "disk"}]
    spec = build_host_spec(
        HostSpecOptions(
            display_name="web 1",
            role_fullnames=["shop:web"],
            checks=checks,
            agent_version="1.2.3",
            cloud_endpoints=endpoints_of(metadata),
        )
    )
    assert list(spec) == ["name", "displayName", "meta", "interfaces", "roleFullnames", "checks"]
    assert spec["name"] == socket.gethostname()
    assert (spec["displayName"], spec["roleFullnames"], spec["checks"]) == (
        "web 1",
        ["shop:web"],
        checks,
    )
    meta = spec["meta"]
    assert meta["agent-name"] == "sabamon-agent/1.2.3"
    assert meta["agent-version"] == "1.2.3"
    assert "cloud" not in meta and metadata.requests == []
    assert meta["kernel"]["name"] == "Linux" and meta["kernel"]["release"] == os.uname().release
    assert len(meta["cpu"]) == os.cpu_count()
    assert all(isinstance(value, str) for cpu in meta["cpu"] for value in cpu.values())
    assert meta["memory"]["total"].endswith("kB") and int(meta["memory"]["total"][:-2]) > 0
    assert any(entry["mount"] == "/" for entry in meta["filesystem"].values())
    root = next(entry for entry in meta["filesystem"].values() if entry["mount"] == "/")
    assert set(root) == {"kb_size", "kb_used", "kb_available", "percent_used", "mount"}
    assert root["percent_used"].endswith("%")
    assert all("size" in device for device in meta["block_device"].values())
    names = [interface["name"] for interface in spec["interfaces"]]
    assert names and "lo" not in names
    for interface in spec["interfaces"]:
        assert interface["ipv4Addresses"] or interface["ipv6Addresses"]
    json.dumps(spec)  # the body is plain JSON


def test_host_spec_on_a_cloud(tmp_path: Path, metadata: MetadataServer) -> None:
    options = HostSpecOptions(
        sys_root=fake_sys(tmp_path, sys_vendor="Amazon EC2"),
        cloud_endpoints=endpoints_of(metadata),
    )
    spec = build_host_spec(options)
    assert "displayName" not in spec
    assert spec["customIdentifier"] == "i-0123456789abcdef0.ec2.amazonaws.com"
    assert spec["meta"]["cloud"]["provider"] == "ec2"
    assert spec["meta"]["cloud"]["metadata"]["instance-type"] == "t3.micro"
