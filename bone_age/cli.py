"""The ``bone-age`` command line: the only module that prints and configures logging."""
from __future__ import annotations

import argparse
import logging
import os
import sys
from contextlib import contextmanager, nullcontext
from pathlib import Path

from . import __version__
from .errors import BoneAgeError
from .hand.results import HANDS
from .i18n import LANGUAGES, system_language
from .modules import MODULES, Module
from .summary import as_text


def _cmd_train(args: argparse.Namespace) -> int:
    """``bone-age train ...`` runs ``bone-age-train ...`` (the training entry point) in a new process."""
    import subprocess

    print("note: training has its own command, `bone-age-train` (python -m bone_age.training); running it",
          file=sys.stderr)
    return subprocess.call([sys.executable, "-m", "bone_age.training", *args.rest])


def _cmd_standard(args: argparse.Namespace) -> int:
    from .hand.standard import load_standard

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
    print(f"sex {a.sex}  hand {a.hand_side}")
    print(f"{'bone':<10} {'stage':>5} {'points':>6} {'conf':>5}")
    for s in a.stages:
        print(f"{s.bone:<10} {s.stage:>5} {s.points:>6} {s.confidence:>5.2f}{'  (set by hand)' if s.overridden else ''}")
    for line in as_text(a.summary_lines()):
        print(line)
    for w in a.warnings:
        print(f"warning: {w}")
    print(f"time {a.timings_ms.get('total', 0):.0f} ms")


def _cmd_assess(args: argparse.Namespace) -> int:
    from .hand.report import write_pdf, write_png
    from .hand.scoring import override_stages
    from .io import read_film

    film = read_film(args.film)  # a missing or unreadable film is said before the models load
    store = None
    if args.confirm:
        from .hand.labels import LabelStore

        store = LabelStore(args.labels)
        store.check_writable()  # before the models load and the film is read
    elif args.labels:
        raise ValueError("--labels stores a reviewed film: give --confirm too (every bone then counts as reviewed)")
    engine = MODULES["bone_age"].load(args.device, args.as_stored, gate=_gate(args), stages=args.stages,
                                      runtime=args.runtime)
    a = engine.assess(film, sex=args.sex, chronological_age=args.age, hand=args.hand)
    read = {s.bone: s.stage for s in a.stages}
    if args.set_stage:
        a = override_stages(a, dict(_parse_override(x) for x in args.set_stage))
    if store is not None:
        store.crop_size = engine.classifier.crop_size
        saved = store.save_review(film, a, args.reader, [s.bone for s in a.stages], read)
        print(f"stored {len(saved)} reviewed bones in {store.root} "
              f"({sum(e.status == 'corrected' for e in saved)} corrected)", file=sys.stderr)
    if args.report:
        from .hand.labels import LabelStore, earlier_readings

        stem = Path(args.report) / Path(args.film).stem
        earlier = earlier_readings(store or LabelStore(args.labels), a, film)
        pdf = write_pdf(stem.with_name(stem.name + ".pdf"), film, a, args.lang, earlier)
        png = write_png(stem.with_name(stem.name + ".png"), film, a)
        print(f"wrote {pdf} and {png}", file=sys.stderr)  # stdout carries only the result (--json parses)
    if args.dicom_out:
        from .pacs.objects import PatientFields, SourceStudy, result_datasets, write_datasets

        study = SourceStudy.of(Path(args.film), PatientFields(args.patient_id or "", args.patient_name or ""))
        written = write_datasets(Path(args.dicom_out), Path(args.film).stem, result_datasets(film, a, study, args.lang))
        print(f"wrote {', '.join(str(p) for p in written)}", file=sys.stderr)
    if args.json:
        print(a.to_json(indent=1))
    else:
        _print_assessment(a)
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    import signal
    import threading

    from .pacs.node import BoneAgeNode, parse_destination, queue_default

    logging.getLogger("bone_age").setLevel(logging.INFO)
    forward = parse_destination(args.forward) if args.forward else None
    if forward is None and not args.outbox:
        raise ValueError("give a destination for the results: --forward AE@HOST:PORT or --outbox DIR")
    engine = MODULES["bone_age"].load(args.device, args.as_stored, gate=_gate(args), stages=args.stages)
    allow = {a.strip() for a in args.allow.split(",") if a.strip()} if args.allow else None
    node = BoneAgeNode(engine, args.ae, args.port, Path(args.queue or queue_default()), host=args.host, allow=allow,
                       forward=forward, outbox=Path(args.outbox) if args.outbox else None, lang=args.lang)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    node.start()
    print(f"bone-age node {args.ae} listening on {args.host}:{args.port} (stop with Ctrl+C or SIGTERM)",
          file=sys.stderr, flush=True)
    stop.wait()
    node.stop()
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from ._resources import models_dir
    from .onnx_runtime import EXPORTABLE, export_model, onnx_dir
    from .registry import list_models, load_model

    out = Path(args.out) if args.out else onnx_dir(models_dir())
    failed = 0
    for task in EXPORTABLE:
        for name in list_models(task):
            try:
                print(f"exported {export_model(load_model(name, 'cpu'), out)}", file=sys.stderr)
            except Exception as exc:  # one network the exporter cannot take: the others are still exported
                failed += 1
                print(f"not exported: {name}: {type(exc).__name__}: {exc} (it runs through torch)", file=sys.stderr)
    return 1 if failed else 0


def _cmd_labels(args: argparse.Namespace) -> int:
    from .hand.labels import LabelStore, summary_lines

    for line in summary_lines(LabelStore(args.folder)):
        print(line)
    return 0


def _parse_override(text: str) -> tuple[str, int]:
    bone, _, stage = text.partition("=")
    if not stage.strip().isdigit():
        raise ValueError(f"--set-stage takes BONE=STAGE, got {text!r}")
    return bone.strip(), int(stage)


def _cmd_score(args: argparse.Namespace) -> int:
    if args.processes < 1:
        raise ValueError(f"--processes must be at least 1, got {args.processes}")
    if args.ray is not None:
        return _score_on_ray(args)
    module = MODULES["bone_age"]
    paths = _films_or_error(args)
    with _checked_outputs(args, module.batch_fields):
        return _score(args, module, paths)


def _score_on_ray(args: argparse.Namespace) -> int:
    """``score --ray``: the same rows from a pool of Ray actors (bone_age.ray_score)."""
    from tqdm import tqdm

    from .hand.standard import parse_sex
    from .ray_score import list_inputs, score_with_ray

    unsupported = [o for o, v in (("--patients-csv", args.patients_csv), ("--reports", args.reports),
                                  ("--dicom-out", args.dicom_out)) if v]
    if unsupported:
        raise ValueError(f"{', '.join(unsupported)} not with --ray yet: score locally for those")
    inputs = list_inputs(args.folder, args.recursive)
    if not inputs:
        raise FileNotFoundError(f"no films found in {args.folder}")
    options = {"device": args.device if args.device != "auto" else "cpu", "stages": args.stages,
               "gate": _gate(args), "polarity": False if args.as_stored else None, "runtime": args.runtime}
    bar = tqdm(total=len(inputs), unit="film", desc="score (ray)", dynamic_ncols=True)
    summary = score_with_ray(inputs, Path(args.out), address=None if args.ray == "local" else args.ray,
                             sex=parse_sex(args.sex) if args.sex else None, engine_options=options,
                             actors=args.workers, batch_size=args.batch, overwrite=args.overwrite,
                             progress=lambda i, n: bar.update(i - bar.n), decode=args.ray_decode)
    bar.close()
    print(f"{summary.line()} -> {args.out}")
    return 0


def _score(args: argparse.Namespace, module: Module, paths: list[Path]) -> int:
    from .hand.patient_table import films_without_row, patient_for, read_patient_table
    from .hand.report import write_pdf, write_png
    from .hand.standard import parse_sex

    table = read_patient_table(args.patients_csv) if args.patients_csv else {}
    if args.patients_csv and (unnamed := films_without_row(table, paths)):
        print(f"warning: {args.patients_csv} has no row for {len(unnamed)} of {len(paths)} films (e.g. "
              f"{', '.join(p.name for p in unnamed[:3])}): their sex and age come from the film or --sex", file=sys.stderr)
    default_sex = parse_sex(args.sex) if args.sex else None
    if args.processes > 1:
        from .hand.engine_pool import EnginePool

        engine = EnginePool(args.processes, device=args.device, stages=args.stages, gate=_gate(args),
                            polarity=False if args.as_stored else None, runtime=args.runtime)
    else:
        engine = module.load(args.device, args.as_stored, gate=_gate(args), stages=args.stages, runtime=args.runtime)

    def score(items):
        patients = [patient_for(table, path) for path, _ in items]
        results = engine.assess_many([film for _, film in items], [p.sex or default_sex for p in patients],
                                     [p.age_years for p in patients], hand=args.hand)
        rows = []
        for (path, film), a in zip(items, results):
            if isinstance(a, BoneAgeError):
                rows.append(_error_row(module, path, a))
                continue
            if args.reports:
                stem = Path(args.reports) / path.stem
                write_pdf(stem.with_name(stem.name + ".pdf"), film, a, args.lang)
                write_png(stem.with_name(stem.name + ".png"), film, a)
            if args.dicom_out:
                from .pacs.objects import SourceStudy, result_datasets, write_datasets

                write_datasets(Path(args.dicom_out), path.stem, result_datasets(film, a, SourceStudy.of(path), args.lang))
            rows.append(a.batch_row(str(path)))
        return rows

    with engine if args.processes > 1 else nullcontext():  # a pool's processes end with the command
        return _folder_batch(args, paths, score, lambda path, exc: _error_row(module, path, exc), module.batch_fields)


def _error_row(module: Module, path: Path, exc: Exception) -> dict:
    from .batch import failure_row

    return failure_row(module.batch_fields, path, exc)


def _folder_batch(args: argparse.Namespace, paths: list[Path], score, error_row, fields: list[str]) -> int:
    """The shared batch behaviour: progress bar, error rows, resume, no overwrite unless asked; a summary line."""
    from tqdm import tqdm

    from .batch import run_batch

    bar = tqdm(total=len(paths), unit="film", desc=args.command, dynamic_ncols=True)
    summary = run_batch(paths, Path(args.out), score, error_row, fields, overwrite=args.overwrite,
                        workers=args.workers, batch=getattr(args, "batch", 8), progress=lambda i, n: bar.update(1),
                        concurrent=getattr(args, "processes", 1))
    bar.close()
    print(f"{summary.line()} -> {args.out}")
    return 0


def _films_or_error(args: argparse.Namespace) -> list[Path]:
    from .batch import find_films

    paths = find_films(Path(args.folder), args.recursive)
    if not paths:
        raise FileNotFoundError(f"no films found in {args.folder}")
    return paths


@contextmanager
def _checked_outputs(args: argparse.Namespace, fields: list[str]):
    """Before any model loads or film is read: the output's folder and every folder of extra files writable, the
    output locked for this run (held until the command ends) and, when it exists, this command's own."""
    from .batch import SHA_FIELD, OutputLock, check_writable, read_rows

    out = Path(args.out)
    if out.suffix not in (".csv", ".jsonl"):
        raise ValueError(f"--out must end in .csv or .jsonl, got {out.name}")
    extra = [Path(d) for d in (getattr(args, k, None) for k in ("reports", "overlays", "masks", "dicom_out")) if d]
    for folder in [out.parent] + extra:
        check_writable(folder)
    with OutputLock(out):
        if not args.overwrite:
            read_rows(out, list(fields) + [SHA_FIELD])
        yield


def _module_batch(args: argparse.Namespace, module: Module, inputs: dict | None = None, after=None) -> int:
    """A side module's folder command: its reader over every film, ``after(path, film, result)`` for the extra files
    a command writes; a film's own failure becomes its error row."""
    paths = _films_or_error(args)
    with _checked_outputs(args, module.batch_fields):
        return _module_rows(args, module, paths, inputs, after)


def _module_rows(args: argparse.Namespace, module: Module, paths: list[Path], inputs: dict | None, after) -> int:
    reader = module.load(args.device, getattr(args, "as_stored", False), runtime=args.runtime)

    def score(items):
        rows = []
        for path, film in items:
            try:
                r = reader.read(film, **(inputs or {}))
            except (BoneAgeError, ValueError) as exc:
                rows.append(_error_row(module, path, exc))
                continue
            if after:
                after(path, film, r)
            rows.append(r.batch_row(str(path)))
        return rows

    return _folder_batch(args, paths, score, lambda path, exc: _error_row(module, path, exc), module.batch_fields)


def _dicom_after(args: argparse.Namespace, module: Module, write_files=None):
    """The per-film extra files of a side module's command: its own (``write_files``), and with ``--dicom-out`` its
    findings as DICOM (an SR and a secondary capture in the film's study)."""
    if not (write_files or args.dicom_out):
        return None

    def after(path, film, r):
        if write_files:
            write_files(path, film, r)
        if args.dicom_out:
            from .pacs.objects import SourceStudy, module_datasets, write_datasets

            write_datasets(Path(args.dicom_out), path.stem, module_datasets(film, r, SourceStudy.of(path), module.title))

    return after


def _cmd_bonescan(args: argparse.Namespace) -> int:
    module = MODULES["bonescan"]
    return _module_batch(args, module, {"kind": args.kind, "view": args.view}, after=_dicom_after(args, module))


def _cmd_clavicle(args: argparse.Namespace) -> int:
    from .clavicle.report import write_masks

    module = MODULES["clavicle"]
    masks = (lambda path, film, r: write_masks(Path(args.masks), path.stem, r)) if args.masks else None
    return _module_batch(args, module, {"pixel_spacing_mm": args.pixel_spacing}, after=_dicom_after(args, module, masks))


def _cmd_fracture(args: argparse.Namespace) -> int:
    from .fracture.report import write_overlay

    module = MODULES["fracture"]
    overlays = (lambda path, film, r: write_overlay(Path(args.overlays), path.stem, film.pixels, r)) if args.overlays else None
    return _module_batch(args, module, after=_dicom_after(args, module, overlays))


def _cmd_models(args: argparse.Namespace) -> int:
    from ._resources import models_dir
    from .registry import NO_MODELS_HINT, list_models, model_card

    names = list_models()
    if not names:
        print(f"error: no models in {models_dir()}; {NO_MODELS_HINT}", file=sys.stderr)
        return 1
    for name in names:
        card = model_card(name)
        size = "?" if card.size_mb is None else card.size_mb
        print(f"{name:<48} {card.task:<10} {size:>6} MB  {json_short(dict(card.headline_metrics))}")
    return 0


def json_short(d: dict) -> str:
    import json

    text = json.dumps(d)
    return text if len(text) < 100 else text[:97] + "..."


RUNTIME_HELP = ("torch, onnx (ONNX Runtime on the CPU, from `bone-age export onnx` of these weights) or auto (onnx "
                "where such an export and onnxruntime are there, else torch)")
HAND_HELP = "the hand read on a film that holds both side by side (RUS-CHN reads the left; default left)"
NO_HAND_CHECK_HELP = ("read films the hand-film check turned away (a very dim or unusual exposure of a hand): the "
                      "localizer alone decides, and the result warns that no check was made")
AS_STORED_HELP = ("read films as stored, without the grey-scale polarity check (which reads a film stored inverted, "
                  "bone dark, the right way round, with a warning)")


def _labels_default() -> str:
    from .hand.labels import labels_dir

    return str(labels_dir())


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
    a.add_argument("--lang", choices=list(LANGUAGES), default=system_language(),
                   help="the report's language (default: the system's)")
    a.add_argument("--dicom-out", metavar="DIR", help="also write the results as DICOM: an SR, the PDF report "
                                                      "encapsulated and the annotated film (secondary capture)")
    a.add_argument("--patient-id", help="--dicom-out for a film that is not DICOM: the patient id to file it under")
    a.add_argument("--patient-name", help="--dicom-out for a film that is not DICOM: the patient's name (DICOM PN)")
    a.add_argument("--json", action="store_true", help="print the full result as JSON")
    a.add_argument("--device", default="auto", help="auto (GPU when present), cpu or cuda")
    a.add_argument("--as-stored", action="store_true", help=AS_STORED_HELP)
    a.add_argument("--hand", choices=HANDS, default="left", help=HAND_HELP)
    a.add_argument("--no-hand-check", action="store_true", help=NO_HAND_CHECK_HELP)
    a.add_argument("--stages", metavar="NAME", help="the stage model to read with (default: the default one in models/)")
    a.add_argument("--runtime", choices=["torch", "onnx", "auto"], default="torch", help=RUNTIME_HELP)
    a.add_argument("--confirm", action="store_true",
                   help="the reader has reviewed every bone (with --set-stage for those corrected): store all 13 in "
                        "the label store")
    a.add_argument("--labels", metavar="DIR", help=f"the label store for --confirm (default: {_labels_default()})")
    a.add_argument("--reader", default=os.environ.get("USER") or "reader", help="the reader's name in the label store")
    a.set_defaults(func=_cmd_assess)

    commands = {"bone_age": _cmd_score, "fracture": _cmd_fracture, "clavicle": _cmd_clavicle, "bonescan": _cmd_bonescan}
    folder = {name: _folder_command(sub, m.command, m.help, commands[name]) for name, m in MODULES.items()}
    for name, m in MODULES.items():
        if m.checks_polarity:
            folder[name].add_argument("--as-stored", action="store_true", help=AS_STORED_HELP)
        folder[name].add_argument("--runtime", choices=["torch", "onnx", "auto"], default="torch", help=RUNTIME_HELP)
        if name != "bone_age":
            folder[name].add_argument("--dicom-out", metavar="DIR",
                                      help="also write each film's findings as DICOM (an SR and a secondary capture)")
    sc = folder["bone_age"]
    sc.add_argument("--sex", help="F or M for every film without a sex of its own (DICOM tag or --patients-csv)")
    sc.add_argument("--patients-csv", "--sex-csv", dest="patients_csv", metavar="CSV",
                    help="each film's sex and/or chronological age: a film column (path/file/filename/film/id), a sex "
                         "column (sex/gender F or M, or male true/false) and/or an age column (age/age_years/"
                         "chronological_age in years, or age_months); checked before any film is read; "
                         "its values win over the films' DICOM tags")
    sc.add_argument("--batch", type=int, default=8, help="films whose crops go through the stage model together")
    sc.add_argument("--processes", type=int, default=1, metavar="N",
                    help="score with N engines in separate processes, the CPU's cores shared out among them (on a "
                         "2-core CPU, 2 single-threaded engines score faster than one with 2 threads)")
    sc.add_argument("--reports", metavar="DIR", help="also write a PDF and an annotated PNG per film")
    sc.add_argument("--lang", choices=list(LANGUAGES), default=system_language(), help="the reports' language")
    sc.add_argument("--dicom-out", metavar="DIR", help="also write each film's results as DICOM (SR, PDF, SC)")
    sc.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                    help="score on a Ray cluster (the ray extra): a local one, or ADDRESS (auto, ray://host:10001); FOLDER "
                         "may then be a text file of paths or URIs, --out may end in .parquet, --workers is the number "
                         "of Engine actors")
    sc.add_argument("--ray-decode", choices=["tasks", "actors"], default="tasks",
                    help="with --ray: films fetched and decoded by Ray CPU tasks (default), or by the scoring actors")
    sc.add_argument("--hand", choices=HANDS, default="left", help=HAND_HELP)
    sc.add_argument("--no-hand-check", action="store_true", help=NO_HAND_CHECK_HELP)
    sc.add_argument("--stages", metavar="NAME", help="the stage model to read with (default: the default one in models/)")

    bs = folder["bonescan"]
    bs.add_argument("--kind", choices=["auto", "region", "wholebody"], default="auto",
                    help="auto: a tall scan at least 160 px wide is whole-body, anything else a region crop")
    bs.add_argument("--view", choices=["ANT", "POST"], help="view of every scan (else from the file or folder name)")

    cl = folder["clavicle"]
    cl.add_argument("--pixel-spacing", type=float, help="mm per pixel for films that do not carry it (JSRT: 0.175)")
    cl.add_argument("--masks", metavar="DIR", help="also write a label PNG per film (1 patient's right, 2 left)")

    fr = folder["fracture"]
    fr.add_argument("--overlays", metavar="DIR", help="also write a PNG per film with the boxes and outlines drawn")

    sv = sub.add_parser("serve", help="a DICOM node: takes hand films from a PACS (C-STORE), sends back an SR, the PDF "
                                      "report and the annotated film (C-STORE to --forward, or files in --outbox)")
    sv.add_argument("--ae", default="BONEAGE", help="this node's AE title (default BONEAGE)")
    sv.add_argument("--port", type=int, default=11112)
    sv.add_argument("--host", default="0.0.0.0", help="address to listen on (default all)")
    sv.add_argument("--forward", metavar="AE@HOST:PORT", help="where the results are sent by C-STORE")
    sv.add_argument("--outbox", metavar="DIR", help="write the results here instead")
    sv.add_argument("--allow", metavar="AE,...", help="the calling AE titles accepted (default: any)")
    sv.add_argument("--queue", metavar="DIR", help="where received films wait (kept across restarts)")
    sv.add_argument("--lang", choices=list(LANGUAGES), default=system_language(), help="the PDF report's language")
    sv.add_argument("--device", default="auto", help="auto (GPU when present), cpu or cuda")
    sv.add_argument("--stages", metavar="NAME", help="the stage model (default: the default one)")
    sv.add_argument("--as-stored", action="store_true", help=AS_STORED_HELP)
    sv.add_argument("--no-hand-check", action="store_true", help=NO_HAND_CHECK_HELP)
    sv.set_defaults(func=_cmd_serve)

    ex = sub.add_parser("export", help="export the networks to ONNX (the bone-age reading's and the side modules' "
                                          "classifiers and segmenter; run with --runtime onnx)")
    ex.add_argument("format", choices=["onnx"])
    ex.add_argument("--out", metavar="DIR", help="where the exports go (default: models/onnx, where --runtime finds them)")
    ex.set_defaults(func=_cmd_export)

    lb = sub.add_parser("labels", help="the label store: counts per category and stage, readers, films, and how often "
                                       "the model's stage agreed with the reader's")
    lb.add_argument("folder", nargs="?", default=None, help=f"the store (default: {_labels_default()})")
    lb.set_defaults(func=_cmd_labels)

    mo = sub.add_parser("models", help="list the shipped models and their held-out metrics")
    mo.set_defaults(func=_cmd_models)

    tr = sub.add_parser("train", help="train a model: moved to `bone-age-train` (forwarded there with a notice)",
                        add_help=False)
    tr.add_argument("rest", nargs=argparse.REMAINDER)
    tr.set_defaults(func=_cmd_train)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except (BoneAgeError, ValueError, FileExistsError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
