"""The GPU path, checked where there is no GPU: device choice, and mixed precision only on CUDA (the CPU's readings
stay float32's)."""
import torch

from bone_age.registry import amp_enabled, autocast, resolve_device


def test_auto_picks_cuda_only_when_a_gpu_is_there(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda" and resolve_device("cpu") == "cpu"


def test_mixed_precision_is_on_for_cuda_and_off_on_the_cpu():
    assert amp_enabled("cuda") and amp_enabled(torch.device("cuda", 0)) and not amp_enabled("cpu")
    assert not autocast("cpu")._enabled
    layer = torch.nn.Linear(4, 2)
    with autocast("cpu"):
        y = layer(torch.ones(1, 4))
    assert y.dtype == torch.float32
