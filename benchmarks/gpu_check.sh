#!/usr/bin/env bash
# On a machine with an NVIDIA GPU (under 8 minutes): the test suite with CUDA visible, CPU/GPU parity of the bone ages
# on the shipped samples, and films/s single and batched on both; result in benchmarks/results/gpu_check.json.
set -euo pipefail
cd "$(dirname "$0")/.."
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || { echo "no NVIDIA GPU here" >&2; exit 2; }
python -c "import torch; assert torch.cuda.is_available(), 'torch sees no CUDA device'; print('torch', torch.__version__, torch.cuda.get_device_name(0))"
QT_QPA_PLATFORM=offscreen timeout 300 python -m pytest -q -x -p no:cacheprovider \
  tests/test_devices.py tests/test_pipeline.py tests/test_stage_reading.py tests/test_gp.py tests/integration || true
timeout 180 python benchmarks/gpu_check.py
