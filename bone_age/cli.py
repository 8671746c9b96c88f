"""The ``bone-age`` command line: the only module that prints and configures logging."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from . import __version__
from .errors import BoneAgeError

DEFAULT_LOCALIZER = "localizer_effnet_lite0.rsna_rusbox_v1"


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


def _cmd_train(args: argparse.Namespace) -> int:
    if not args.data and not (args.what == "stages" and args.rus_chn_root):
        print(f"error: 'train {args.what}' needs --data", file=sys.stderr)
        return 2
    if args.what != "regions" and not args.out:
        print(f"error: 'train {args.what}' needs --out", file=sys.stderr)
        return 2
    if args.what == "localizer":
        from .training.localizer import train_localizer

        train_localizer(Path(args.data), Path(args.out), epochs=args.epochs, device=args.device, limit=args.limit)
    elif args.what == "stages" and args.rus_chn_root:
        from .training.stages import train_supervised

        _, metrics = train_supervised(Path(args.rus_chn_root), Path(args.out), epochs=args.epochs, device=args.device)
        for cat, m in metrics.items():
            print(f"{cat:<10} n={m['n']:<6} accuracy {m['accuracy']:.3f}  within one stage {m['within_one']:.3f}")
    elif args.what == "stages":
        from .training.stages import train_weak

        train_weak(Path(args.data), Path(args.out), localizer=args.localizer, epochs=args.epochs, device=args.device,
                   cache=Path(args.cache) if args.cache else None, limit=args.limit)
    elif args.what == "regions":
        from ._resources import assets_dir
        from .training.region_fit import fit_region_rule

        fit_region_rule(Path(args.data), Path(args.out or assets_dir() / "standards" / "rus_regions.json"))
    return 0


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

    t = sub.add_parser("train", help="train a model (see the model cards under models/)")
    t.add_argument("what", choices=["localizer", "regions", "stages"])
    t.add_argument("--data", help="data folder: hand_landmarks (localizer, regions) or rsna_hands (weak stages)")
    t.add_argument("--rus-chn-root", help="stages: the RUS-CHN stage-labelled crop set (supervised training)")
    t.add_argument("--localizer", default=DEFAULT_LOCALIZER, help="stages (weak): the localizer model that cuts the crops")
    t.add_argument("--cache", help="stages (weak): JSON file caching the localizer's keypoints per film")
    t.add_argument("--out", help="output path without extension, e.g. models/localizer_effnet_lite0.rsna_rusbox_v1")
    t.add_argument("--epochs", type=int, default=24)
    t.add_argument("--device", default="auto", help="auto, cpu or cuda")
    t.add_argument("--limit", type=int, default=None, help="use only the first N films (smoke tests)")
    t.set_defaults(func=_cmd_train)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except (BoneAgeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
