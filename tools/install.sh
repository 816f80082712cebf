#!/usr/bin/env bash
# Create .venv (or use $VENV) and install FineTec with its pinned OpenMMLab
# stack. TORCH_SPEC picks the torch build: the default is the CPU build this
# project is tested with; on a GPU machine use e.g. TORCH_SPEC='torch' or the
# command from pytorch.org *before* running this script with TORCH_SPEC=skip.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}

[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
PY="$VENV/bin/python"
if [ "$TORCH_SPEC" != skip ]; then
    "$PY" -m pip install -q "$TORCH_SPEC"
fi
# tests: the test tools; deploy: ONNX export, whose tests CI runs too
"$PY" -m pip install -q -e '.[tests,deploy]'
"$PY" -c "import finetec_mmaction, mmaction, mmengine, torch; \
print('finetec_mmaction', finetec_mmaction.__version__, '| mmaction2', mmaction.__version__, \
'| mmengine', mmengine.__version__, '| torch', torch.__version__)"
