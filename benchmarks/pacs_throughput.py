"""The DICOM node's throughput: 50 hand films sent by C-STORE (pynetdicom, one association) to `bone-age serve`
(results to an outbox), timed from the first film sent to the last result written. Writes
``results/pacs_throughput.json``.

    python benchmarks/pacs_throughput.py [--films 50]
"""
from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pydicom
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_result  # noqa: E402
from dicom_factory import make_dicom  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    from pynetdicom import AE

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--films", type=int, default=50)
    ap.add_argument("--sample", default="IMG0000111")
    args = ap.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        px = np.asarray(Image.open(REPO / "assets" / "samples" / f"{args.sample}.jpg").convert("L")).astype(np.uint16) * 16
        films = [pydicom.dcmread(make_dicom(tmp / f"f{i}.dcm", px, PatientSex="M", PatientID=f"P{i}",
                                            StudyInstanceUID=pydicom.uid.generate_uid(),
                                            SeriesInstanceUID=pydicom.uid.generate_uid())) for i in range(args.films)]
        outbox = tmp / "outbox"
        log = open(tmp / "node.log", "w")
        node = subprocess.Popen([sys.executable, "-m", "bone_age.cli", "serve", "--port", str(port), "--host", "127.0.0.1",
                                 "--outbox", str(outbox), "--queue", str(tmp / "queue"), "--device", "cpu", "--lang", "en"],
                                stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
        t_start = time.perf_counter()
        while "listening on" not in (tmp / "node.log").read_text():
            time.sleep(0.2)
        startup = time.perf_counter() - t_start
        ae = AE(ae_title="BENCH")
        ae.add_requested_context(films[0].SOPClassUID, films[0].file_meta.TransferSyntaxUID)
        t0 = time.perf_counter()
        assoc = ae.associate("127.0.0.1", port, ae_title="BONEAGE")
        statuses = [assoc.send_c_store(ds).Status for ds in films]
        assoc.release()
        sent = time.perf_counter() - t0
        expected = 3 * args.films
        while len(list(outbox.glob("*.dcm"))) < expected and time.perf_counter() - t0 < 3600:
            time.sleep(0.2)
        done = time.perf_counter() - t0
        node.terminate()
        node.wait(60)
        log.close()
        results = len(list(outbox.glob("*.dcm")))
    write_result("pacs_throughput", {
        "films": args.films, "sample": args.sample, "film_px": list(px.shape), "node_startup_seconds": round(startup, 1),
        "all_sent_seconds": round(sent, 2), "statuses_ok": sum(s == 0 for s in statuses),
        "seconds_to_last_result": round(done, 1), "films_per_second": round(args.films / done, 3),
        "results_written": results, "per_film": "an SR, the PDF report and the annotated secondary capture"})


if __name__ == "__main__":
    main()
