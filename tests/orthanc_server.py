"""A real PACS for the node's tests: Orthanc on loopback with a throwaway config and storage, started and stopped here."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ports import free_port  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
ORTHANC = shutil.which("Orthanc") or (Path("/usr/sbin/Orthanc") if Path("/usr/sbin/Orthanc").exists() else None)


class OrthancServer:
    def __init__(self, root: Path, node_port: int):
        self.http, self.dicom = free_port(), free_port()
        config = {"Name": "bone-age-test", "StorageDirectory": str(root / "db"), "IndexDirectory": str(root / "db"),
                  "HttpPort": self.http, "DicomPort": self.dicom, "DicomAet": "ORTHANC", "RemoteAccessAllowed": False,
                  "AuthenticationEnabled": False, "HttpServerEnabled": True, "DicomCheckCalledAet": False,
                  "DicomModalities": {"boneage": ["BONEAGE", "127.0.0.1", node_port]}, "Plugins": [],
                  "StableAge": 1, "ConcurrentJobs": 1}
        (root / "orthanc.json").write_text(json.dumps(config))
        self.log = open(root / "orthanc.log", "w")
        self.proc = subprocess.Popen([str(ORTHANC), str(root / "orthanc.json")], stdout=self.log, stderr=subprocess.STDOUT)
        self._wait(lambda: self.get("/system"), 30, "Orthanc did not start")

    def _wait(self, probe, seconds, message):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                return probe()
            except OSError:
                time.sleep(0.3)
        raise TimeoutError(message)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.http}{path}"

    def get(self, path: str):
        with urllib.request.urlopen(self.url(path), timeout=10) as r:
            body = r.read()
        return json.loads(body) if r.headers.get_content_type() == "application/json" else body

    def post(self, path: str, data: bytes, content_type: str = "application/octet-stream"):
        req = urllib.request.Request(self.url(path), data=data, method="POST", headers={"Content-Type": content_type})
        with urllib.request.urlopen(req, timeout=120) as r:
            return json.loads(r.read())

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


class NodeProcess:
    """``bone-age serve`` in its own process, as a hospital would run it."""

    def __init__(self, root: Path, port: int, forward: str, allow: str = "ORTHANC"):
        self.port, self.root = port, root
        self.log = open(root / "node.log", "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "bone_age.cli", "serve", "--ae", "BONEAGE", "--port", str(port),
                                      "--host", "127.0.0.1", "--forward", forward, "--allow", allow,
                                      "--queue", str(root / "queue"), "--device", "cpu", "--lang", "en"],
                                     stdout=self.log, stderr=subprocess.STDOUT, cwd=REPO)
        end = time.monotonic() + 120
        while "listening on" not in (root / "node.log").read_text():
            if self.proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError("the node did not start:\n" + (root / "node.log").read_text()[-2000:])
            time.sleep(0.3)

    def stop(self) -> int:
        self.proc.terminate()  # SIGTERM: a clean stop
        try:
            return self.proc.wait(60)
        finally:
            self.log.close()


@pytest.fixture(scope="module")
def pacs(tmp_path_factory):
    if ORTHANC is None:
        pytest.skip("Orthanc is not installed (Debian package orthanc; .ci/run installs it)")
    pytest.importorskip("pynetdicom", reason="the node needs pynetdicom (the pacs extra)")
    root = tmp_path_factory.mktemp("pacs")
    node_port = free_port()
    server = OrthancServer(root, node_port)
    node = NodeProcess(root, node_port, f"ORTHANC@127.0.0.1:{server.dicom}")
    yield server, node, root
    code = node.stop()
    server.stop()
    assert code == 0, (root / "node.log").read_text()[-2000:]
