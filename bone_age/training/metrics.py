"""Binary-classifier metrics shared by the training commands and the benchmarks (scikit-learn underneath)."""
from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve


def fit_platt(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """(a, b) with P = sigmoid(a * logit + b), fitted on held-out (validation) predictions."""
    lr = LogisticRegression(C=1e4).fit(np.asarray(logits, float)[:, None], labels)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def threshold_at_specificity(probs: np.ndarray, labels: np.ndarray, specificity: float = 0.9) -> float:
    """The lowest threshold whose specificity on these predictions is at least ``specificity``."""
    neg = np.sort(np.asarray(probs)[np.asarray(labels) == 0])
    if neg.size == 0:
        return 0.5
    return float(np.nextafter(neg[min(int(np.ceil(specificity * neg.size)) - 1, neg.size - 1)], np.inf))


def sensitivity_at_specificity(probs: np.ndarray, labels: np.ndarray, specificity: float = 0.9) -> float:
    """Best sensitivity on the ROC curve among points with specificity >= ``specificity``."""
    fpr, tpr, _ = roc_curve(labels, probs)
    ok = fpr <= 1 - specificity
    return float(tpr[ok].max()) if ok.any() else 0.0


def calibration_bins(probs: np.ndarray, labels: np.ndarray, bins: int = 10) -> tuple[float, list[dict]]:
    """Expected calibration error and the reliability table (equal-width bins with at least one prediction)."""
    probs, labels = np.asarray(probs, float), np.asarray(labels, float)
    idx = np.minimum((probs * bins).astype(int), bins - 1)
    table, ece = [], 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            table.append({"bin": f"{b / bins:.1f}-{(b + 1) / bins:.1f}", "n": int(m.sum()),
                          "mean_predicted": round(float(probs[m].mean()), 4), "observed_rate": round(float(labels[m].mean()), 4)})
            ece += m.mean() * abs(probs[m].mean() - labels[m].mean())
    return float(ece), table


def _stratified_interval(statistic, labels: np.ndarray, n: int, seed: int) -> tuple[float, float]:
    """95 % bootstrap interval of ``statistic(indices)``, positives and negatives resampled separately."""
    rng = np.random.default_rng(seed)
    y = np.asarray(labels)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    values = [statistic(np.r_[rng.choice(pos, pos.size), rng.choice(neg, neg.size)]) for _ in range(n)]
    lo, hi = np.percentile(values, [2.5, 97.5])
    return round(float(lo), 4), round(float(hi), 4)


def auc_interval(probs: np.ndarray, labels: np.ndarray, n: int = 1000, seed: int = 0) -> tuple[float, float]:
    """95 % bootstrap interval of the AUC (positives and negatives resampled separately)."""
    p, y = np.asarray(probs), np.asarray(labels)
    return _stratified_interval(lambda k: roc_auc_score(y[k], p[k]), y, n, seed)


def paired_auc_interval(probs_a: np.ndarray, probs_b: np.ndarray, labels: np.ndarray, n: int = 1000,
                        seed: int = 0) -> tuple[float, float]:
    """95 % bootstrap interval of AUC(b) - AUC(a) on the same films (positives and negatives resampled separately,
    the same films for both)."""
    a, b, y = np.asarray(probs_a), np.asarray(probs_b), np.asarray(labels)
    return _stratified_interval(lambda k: roc_auc_score(y[k], b[k]) - roc_auc_score(y[k], a[k]), y, n, seed)


def mae_interval(errors: np.ndarray, n: int = 1000, seed: int = 0) -> tuple[float, float]:
    """95 % bootstrap interval of the mean absolute error (cases resampled)."""
    err = np.abs(np.asarray(errors, float))
    means = np.random.default_rng(seed).choice(err, (n, err.size)).mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return round(float(lo), 2), round(float(hi), 2)


def proportion_interval(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of the proportion ``hits`` / ``n`` ((0, 1) when ``n`` is 0)."""
    if n == 0:
        return 0.0, 1.0
    p, d = hits / n, 1 + z * z / n
    c, h = (p + z * z / (2 * n)) / d, z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return round(float(c - h), 4), round(float(c + h), 4)


def binary_report(probs: np.ndarray, labels: np.ndarray, threshold: float) -> dict:
    """AUC, sensitivity/specificity at ``threshold``, sensitivity at 90 % specificity, Brier score, ECE."""
    probs, labels = np.asarray(probs, float), np.asarray(labels, int)
    pred = probs >= threshold
    pos, neg = labels == 1, labels == 0
    ece, table = calibration_bins(probs, labels)
    return {"n": int(labels.size), "n_positive": int(pos.sum()), "auc": round(float(roc_auc_score(labels, probs)), 4),
            "auc_ci95_bootstrap": list(auc_interval(probs, labels)),
            "threshold": round(float(threshold), 4),
            "sensitivity": round(float(pred[pos].mean()), 4) if pos.any() else None,
            "specificity": round(float((~pred[neg]).mean()), 4) if neg.any() else None,
            "sensitivity_at_90_specificity": round(sensitivity_at_specificity(probs, labels, 0.9), 4),
            "brier": round(float(brier_score_loss(labels, probs)), 4), "ece": round(ece, 4), "reliability": table}
