"""int8 quantization of the stage classifier and the Greulich-Pyle regressor, against their float ONNX exports, judged
by the rule written before the run (docs/speed.md, "int8 quantization").

    bone-age export onnx
    python benchmarks/studies/int8_quantization.py --rsna299 DIR [--calibration-films 30] [--work DIR]

Static quantization by ONNX Runtime (QDQ, per-channel int8 weights, uint8 activations, min-max ranges) of the
convolutions only, the first and last convolution and the depthwise ones kept in float: on training films, quantizing
every convolution changed the read stage of 63 % of crops and the GP estimate by 12 months on average, keeping the
first and last 31 % and 1.5 months, keeping the depthwise ones as well 14 % and 0.7 months. Activation ranges come
from the first ``--calibration-films`` 'train' films of rsna_hands (reserved ids dropped). Every validation film of the
cards (rsna_hands 'val' and the 299 px copy's 'val', stretched back) is read twice through the whole reading with ONNX
Runtime, float and int8, and the shipped samples are read with torch and int8. Writes
benchmarks/studies/results/int8_quantization.json: per model the validation MAE of both, the paired difference with a
bootstrap interval, the step's median time, the samples' largest difference, and the rule's verdict.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for _common

from _common import DATA, REPO, write_result  # noqa: E402
from bone_age.errors import NotAHandFilm  # noqa: E402
from bone_age.hand.pipeline import Engine  # noqa: E402
from bone_age.io import read_film  # noqa: E402
from bone_age.onnx_runtime import OnnxModule, onnx_dir  # noqa: E402
from bone_age.training.rsna import load_rsna_299, load_rsna_hands  # noqa: E402
from bone_age.training.splits import split_of  # noqa: E402
from bone_age.training.stage_data import unsquash  # noqa: E402

RULE = ("adopt a model's int8 network only if, through the whole reading with ONNX Runtime on the cards' validation "
        "films (pooled), (1) its bone-age MAE moves by less than 0.1 month, (2) its step is faster (median over single "
        "films) and (3) every shipped sample's bone age stays within 0.1 y of torch's (docs/speed.md, written "
        "2026-12-06 09:55 UTC before the run)")
SAMPLES = ("IMG0000111", "IMG0000035", "IMG0000122", "IMG0003116", "IMG0003712")


class _Recorder:
    """Stands in for an ONNX Runtime session and keeps every input it is given (the calibration data)."""

    def __init__(self, session):
        self.session, self.feeds = session, []

    def run(self, outputs, feeds):
        self.feeds.append({k: v.copy() for k, v in feeds.items()})
        return self.session.run(outputs, feeds)

    def __getattr__(self, name):
        return getattr(self.session, name)


class _Feeds:
    def __init__(self, feeds):
        self.it = iter(feeds)

    def get_next(self):
        return next(self.it, None)


def quantize(src: Path, feeds: list[dict], out: Path) -> Path:
    import onnx
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    pre = out.with_suffix(".pre.onnx")
    quant_pre_process(str(src), str(pre))
    convs = [n for n in onnx.load(str(pre)).graph.node if n.op_type == "Conv"]
    depthwise = [n.name for n in convs if any(a.name == "group" and a.i > 1 for a in n.attribute)]
    quantize_static(str(pre), str(out), _Feeds(feeds), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, op_types_to_quantize=["Conv"],
                    nodes_to_exclude=[convs[0].name, convs[-1].name, *depthwise])
    return out


def paired(err_a: np.ndarray, err_b: np.ndarray, rng: np.random.Generator) -> dict:
    d = err_b - err_a
    boot = d[rng.integers(len(d), size=(2000, len(d)))].mean(1)
    return {"n": len(d), "mae_float_months": round(float(err_a.mean()), 3), "mae_int8_months": round(float(err_b.mean()), 3),
            "int8_minus_float_months": round(float(d.mean()), 3),
            "ci95": [round(float(q), 3) for q in np.quantile(boot, [0.025, 0.975])],
            "mean_abs_change_per_film_months": None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rsna299", type=Path, required=True, help="root of the 299 px RSNA copy (its 'val' films)")
    ap.add_argument("--calibration-films", type=int, default=30)
    ap.add_argument("--work", type=Path, help="where the int8 files go (default: a temporary folder)")
    ap.add_argument("--limit", type=int, help="read only this many validation films (a trial of the script)")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="int8-"))
    work.mkdir(parents=True, exist_ok=True)

    fp = Engine(device="cpu", runtime="onnx")
    nets = {"stages": fp.classifier, "gp": fp.gp}
    recorders = {k: _Recorder(c.model.module.session) for k, c in nets.items()}
    for k, c in nets.items():
        c.model.module.session = recorders[k]
    hands = load_rsna_hands(DATA / "rsna_hands")
    for f in [f for f in hands if split_of(f.id) == "train"][:args.calibration_films]:
        try:
            fp.assess(f.path, sex="M" if f.male else "F")
        except NotAHandFilm:
            pass
    for k, c in nets.items():
        c.model.module.session = recorders[k].session
    q8 = Engine(device="cpu", runtime="onnx")
    for k, c in {"stages": q8.classifier, "gp": q8.gp}.items():
        path = quantize(onnx_dir(REPO / "models") / f"{c.model.name}.onnx", recorders[k].feeds, work / f"{c.model.name}.int8.onnx")
        c.model = replace(c.model, module=OnnxModule(path))

    held = {f.id for f in hands}
    films = [(f, "val") for f in hands if split_of(f.id) == "val"]
    films += [(f, "val_299px") for f in load_rsna_299(args.rsna299) if split_of(f.id) == "val" and f.id not in held]
    films = films[:args.limit] if args.limit else films
    rows = []
    for f, group in tqdm(films, desc="float and int8", mininterval=10):
        film = read_film(f.path) if group == "val" else unsquash(read_film(f.path))
        try:
            a, b = (e.assess(film, sex="M" if f.male else "F") for e in (fp, q8))
        except NotAHandFilm:
            continue
        rows.append({"group": group, "age": f.boneage_months / 12, "rus": (a.bone_age_years, b.bone_age_years),
                     "gp": (a.gp_bone_age_years, b.gp_bone_age_years),
                     "stages_changed": sum(x.stage != y.stage for x, y in zip(a.stages, b.stages)),
                     "ms": {"stages": (a.timings_ms["stage"], b.timings_ms["stage"]), "gp": (a.timings_ms["gp"], b.timings_ms["gp"])}})

    torch_engine = Engine(device="cpu")
    samples = {"stages": 0.0, "gp": 0.0}
    for stem in SAMPLES:
        for sex in ("F", "M"):
            a, b = (e.assess(REPO / "assets" / "samples" / f"{stem}.jpg", sex=sex) for e in (torch_engine, q8))
            samples["stages"] = max(samples["stages"], abs(a.bone_age_years - b.bone_age_years))
            samples["gp"] = max(samples["gp"], abs(a.gp_bone_age_years - b.gp_bone_age_years))

    rng = np.random.default_rng(0)
    age = np.array([r["age"] for r in rows])
    out = {"rule": RULE, "calibration_films": args.calibration_films, "validation_films_read": len(rows),
           "validation_films": {g: sum(r["group"] == g for r in rows) for g in ("val", "val_299px")}, "models": {}}
    for key, reading in (("stages", "rus"), ("gp", "gp")):
        est = np.array([r[reading] for r in rows])
        err_f, err_q = np.abs(est[:, 0] - age) * 12, np.abs(est[:, 1] - age) * 12
        fig = paired(err_f, err_q, rng)
        fig["mean_abs_change_per_film_months"] = round(float(np.abs(est[:, 1] - est[:, 0]).mean() * 12), 3)
        ms = np.array([r["ms"][key] for r in rows])
        fig["step_median_ms"] = {"float": round(float(np.median(ms[:, 0])), 1), "int8": round(float(np.median(ms[:, 1])), 1)}
        fig["samples_largest_difference_years"] = round(samples[key], 2)
        checks = {"mae_moves_under_0.1_month": abs(fig["int8_minus_float_months"]) < 0.1,
                  "step_faster": fig["step_median_ms"]["int8"] < fig["step_median_ms"]["float"],
                  "samples_within_0.1_y": samples[key] <= 0.1}
        fig.update(checks=checks, adopted=all(checks.values()))
        if key == "stages":
            fig["bones_changed_stage_share"] = round(sum(r["stages_changed"] for r in rows) / (13 * len(rows)), 4)
        out["models"][getattr({"stages": fp.classifier, "gp": fp.gp}[key].model, "name")] = fig
    write_result("int8_quantization", out)
    for name, fig in out["models"].items():
        print(name, {k: fig[k] for k in ("int8_minus_float_months", "ci95", "step_median_ms", "checks", "adopted")})


if __name__ == "__main__":
    main()
