"""Reading a stage from a bone's stage distribution: the median, also for the ordinal head's padded output."""
import numpy as np
import torch

from bone_age.nets import StageNet
from bone_age.stage import median_stage


def test_median_is_not_the_most_probable_stage():
    p = np.array([[0.30, 0.05, 0.30, 0.35], [0.0, 0.0, 0.0, 1.0], [0.6, 0.4, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]])
    assert median_stage(p).tolist() == [3, 4, 1, 2]
    assert int(np.argmax(p[0])) + 1 == 4  # argmax would skip to the last stage


def test_median_of_the_ordinal_head_counts_the_thresholds_exceeded():
    net = StageNet([5, 8, 3], backbone="efficientnet_lite0").eval()
    cat = torch.tensor([0, 1, 2] * 20)
    z = torch.linspace(-5, 5, 60)
    with torch.no_grad():
        probs = net.probabilities(z, cat).numpy()
        exceeded = (net.cumulative_logits(z, cat) > 0).sum(1).numpy()
    read = median_stage(probs)
    assert (read == exceeded + 1).all()
    assert (read <= net.n_stages[cat].numpy()).all() and len(set(read.tolist())) > 3
