"""Hand-film gate on the held-out test films of every source: AUC, and at the card's threshold the share of hand
films that pass and of other films turned away, per source.

    python benchmarks/hand_gate_accuracy.py --data ../shared/data/rsna_hands /work/data/fracatlas /work/data/JSRT [--split val] [--update-card]

``--split val`` reads the validation films instead (for choosing between gates; writes hand_gate_accuracy_val.json).
"""
from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

from bone_age.hand.gate import HandGate
from bone_age.registry import load_model
from bone_age.training.hand_gate import gate_films, load_inputs, synthetic_negatives

from _common import update_card_metrics, whole_film_args, write_result


def main() -> None:
    args, name = whole_film_args("hand_gate", splits=True)
    gate = HandGate(load_model(name))
    test, inputs = load_inputs([f for f in gate_films(args.data) if f.split == args.split], gate.size)
    probs = np.array([gate.probability(x) for x in inputs])
    hand = np.array([f.hand for f in test])
    synth = np.array([gate.probability(x) for x in synthetic_negatives(np.random.default_rng(123), 30, gate.size)])
    per_source = {}
    for src in sorted({f.source for f in test}):
        m = np.array([f.source == src for f in test])
        ok = probs[m] >= gate.threshold
        per_source[src] = {"n": int(m.sum()), ("passed" if hand[m][0] else "turned_away"): round(float(ok.mean() if hand[m][0] else 1 - ok.mean()), 4)}
    per_source["synthetic_blank_noise_blobs"] = {"n": len(synth), "turned_away": round(float(np.mean(synth < gate.threshold)), 4)}
    result = {
        "model": name, "split": args.split, "threshold": gate.threshold, "n_films": len(test),
        "auc_hand_vs_other": round(float(roc_auc_score(hand, probs)), 4),
        "hands_passing": round(float(np.mean(probs[hand] >= gate.threshold)), 4),
        "others_turned_away": round(float(np.mean(probs[~hand] < gate.threshold)), 4),
        "per_source": per_source,
        "turned_away_hands": sorted(f.path.name for f, p in zip(test, probs) if f.hand and p < gate.threshold),
        "passed_others": sorted(f.path.name for f, p in zip(test, probs) if not f.hand and p >= gate.threshold),
    }
    write_result("hand_gate_accuracy" if args.split == "test" else "hand_gate_accuracy_val", result)
    if args.update_card and args.split == "test":
        update_card_metrics(name, {k: v for k, v in result.items() if k != "model"},
                            "python benchmarks/hand_gate_accuracy.py --data <rsna_hands> <FracAtlas> <JSRT> --update-card")
    print({k: v for k, v in result.items() if k not in ("turned_away_hands", "passed_others")})


if __name__ == "__main__":
    main()
