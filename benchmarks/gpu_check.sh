#!/usr/bin/env bash
# The GPU check: everything belamy claims on a CUDA GPU, in one command, in under 8 minutes.
#
#     bash benchmarks/gpu_check.sh
#
# On a machine with an NVIDIA GPU, from any directory, it runs:
#   1. the gpu-marked tests (`python -m pytest -m gpu`: tests/gpu/test_cuda.py): device and
#      precision choice, tiny training in bf16 and fp16 (grad scalers), exact resume on the GPU,
#      sampling that matches its records;
#   2. training steps of the 256 px preset (portrait-256) in bf16 and in fp16 on demo portraits;
#   3. sampling that run on the GPU, and re-rendering one image from its record (same pixels);
#   4. benchmarks/train_speed.py --device cuda   (-> benchmarks/results/train_speed-cuda.json);
#   5. benchmarks/sample_speed.py --device cuda  (-> benchmarks/results/sample_speed_cuda.json);
# then prints a summary and writes benchmarks/results/gpu_check.json (every step's status and
# time, the 256 px img/s and GPU memory per precision, the test counts).
#
# Python: $GPU_CHECK_PYTHON if set, else the repo's .venv, else a new .venv that sees the base
# python3's packages (a GPU image's torch is used as it is). torch is installed (`pip install
# torch`, PyPI's CUDA build) only when it is missing or has no CUDA; belamy's other dependencies
# and pytest are pip-installed when missing (offline: PIP_NO_INDEX=1 PIP_FIND_LINKS=WHEEL_DIR).
# The code tested is this working tree's (PYTHONPATH=src), whatever else is installed.
# Installing does not count towards the time budget of the checks (GPU_CHECK_BUDGET seconds, 470).
# Full logs of each step: $GPU_CHECK_LOGS (default: a temporary folder, printed at the end).
# Exit status: 0 when every step passed, 1 when one failed or there is no CUDA GPU.
set -euo pipefail

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
  exit 0
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RESULTS="$ROOT/benchmarks/results"
BUDGET="${GPU_CHECK_BUDGET:-470}"
say() { printf 'gpu_check: %s\n' "$*"; }
die() { printf 'gpu_check: %s\n' "$*" >&2; exit 1; }

# -- 0. a CUDA GPU, before anything is installed ----------------------------------------------------
gpus=""
if command -v nvidia-smi >/dev/null 2>&1; then
  gpus="$(nvidia-smi -L 2>/dev/null | grep -i '^GPU' || true)"
elif compgen -G '/dev/nvidia[0-9]*' >/dev/null; then
  gpus="$(ls /dev/nvidia[0-9]*)"
fi
[[ -n "$gpus" ]] || die "no CUDA GPU visible (nvidia-smi lists none): run this on a machine with an NVIDIA GPU and its driver"
say "GPU: $(head -n 1 <<<"$gpus")"

# -- 1. python, torch with CUDA, belamy's dependencies ---------------------------------------------
if [[ -n "${GPU_CHECK_PYTHON:-}" ]]; then
  PY="$GPU_CHECK_PYTHON"
elif [[ -x "$ROOT/.venv/bin/python" ]]; then
  PY="$ROOT/.venv/bin/python"
else
  base="$(command -v python3 || command -v python || true)"
  [[ -n "$base" ]] || die "no python3 found: install Python 3.10+ (or set GPU_CHECK_PYTHON)"
  "$base" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || die "$base is Python < 3.10: belamy needs 3.10+"
  say "creating $ROOT/.venv from $base"
  "$base" -m venv "$ROOT/.venv" 2>/dev/null || "$base" -m venv --without-pip "$ROOT/.venv" \
    || die "could not create a virtualenv with $base -m venv"
  # The base python's packages (a GPU image's torch among them) stay visible, behind the venv's own.
  site_dir="$("$ROOT/.venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  "$base" -c 'import site, sys; print("\n".join(p for p in site.getsitepackages() + [site.getusersitepackages()] if p))' \
    > "$site_dir/_gpu_check_base.pth"
  PY="$ROOT/.venv/bin/python"
fi
"$PY" -m pip --version >/dev/null 2>&1 || die "$PY has no pip: install pip for it (or set GPU_CHECK_PYTHON)"

if ! "$PY" -c 'import sys, torch; sys.exit(torch.version.cuda is None)' 2>/dev/null; then
  if "$PY" -c 'import torch' 2>/dev/null; then
    own="$("$PY" -c 'import os, sys, torch; print(int(torch.__file__.startswith(sys.prefix + os.sep)))')"
    say "torch $("$PY" -c 'import torch; print(torch.__version__)') has no CUDA: installing PyPI's CUDA build"
    if [[ "$own" == 1 ]]; then
      "$PY" -m pip uninstall -y torch
      "$PY" -m pip install torch || die "pip install torch failed (no access to PyPI?)"
    else  # torch of the base python: shadow it in the venv, leave the base alone
      "$PY" -m pip install --ignore-installed torch || die "pip install torch failed (no access to PyPI?)"
    fi
  else
    say "installing torch (PyPI's CUDA build)"
    "$PY" -m pip install torch || die "pip install torch failed (no access to PyPI?)"
  fi
  "$PY" -c 'import sys, torch; sys.exit(torch.version.cuda is None)' \
    || die "pip installed a torch without CUDA ($("$PY" -c 'import torch; print(torch.__version__)')): a pip constraint or find-links may pin a CPU wheel (pip config list)"
fi
mapfile -t deps < <("$PY" - <<'EOF'
import re
text = open("pyproject.toml", encoding="utf-8").read()
try:
    import tomllib
    deps = tomllib.loads(text)["project"]["dependencies"]
except ModuleNotFoundError:  # Python 3.10
    deps = re.findall(r'"([^"]+)"', re.search(r"^dependencies = \[(.*?)^\]", text, re.S | re.M).group(1))
print("\n".join(d for d in deps if not re.match(r"torch\b", d)))
print("pytest>=8\npytest-timeout>=2.2")
EOF
)
if ! "$PY" -m pip install -q "${deps[@]}"; then
  die "could not install belamy's dependencies (${deps[*]}): no access to PyPI? Offline, give wheels: PIP_NO_INDEX=1 PIP_FIND_LINKS=DIR"
fi
export PYTHONPATH="$ROOT/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 BELAMY_PROGRESS=0
"$PY" -c 'import sys, torch; sys.exit(not torch.cuda.is_available())' \
  || die "torch $("$PY" -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda)') sees no GPU although one is listed (driver too old for this torch? CUDA_VISIBLE_DEVICES?)"
"$PY" -c 'import belamy, pathlib, sys; sys.exit(not pathlib.Path(belamy.__file__).resolve().is_relative_to(pathlib.Path("src").resolve()))' \
  || die "python imports belamy from elsewhere than $ROOT/src"
say "python $PY: $("$PY" -c 'import platform, torch; print(f"Python {platform.python_version()}, torch {torch.__version__} (CUDA {torch.version.cuda}) on {torch.cuda.get_device_name()}")')"

# -- 2. the checks ---------------------------------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/belamy-gpu-check.XXXXXX")"
LOGS="${GPU_CHECK_LOGS:-$(mktemp -d "${TMPDIR:-/tmp}/belamy-gpu-check-logs.XXXXXX")}"
mkdir -p "$LOGS" "$RESULTS"
trap 'rm -rf "$WORK"' EXIT
touch "$WORK/start"
DEADLINE=$((SECONDS + BUDGET))
declare -a NAMES=()
declare -A STATUS=() TOOK=()
FAILED=0

# step NAME CAP_SECONDS CMD...: run CMD with at most CAP seconds (less if the budget has less left),
# its output in $LOGS/NAME.log; the last lines are shown if it fails.
step() {
  local name=$1 cap=$2 rc=0 t0=$SECONDS left
  shift 2
  NAMES+=("$name")
  left=$((DEADLINE - SECONDS))
  if ((left < cap)); then cap=$left; fi
  if ((cap < 15)); then
    STATUS[$name]="skipped (out of time)"; TOOK[$name]=0; FAILED=1
    say "$name: skipped, the ${BUDGET}s budget is spent"
    return 1
  fi
  say "$name (at most ${cap}s) ..."
  timeout --kill-after=15 "$cap" "$@" >"$LOGS/$name.log" 2>&1 || rc=$?
  TOOK[$name]=$((SECONDS - t0))
  if ((rc == 0)); then
    STATUS[$name]="ok"
  else
    if ((rc == 124 || rc == 137)); then STATUS[$name]="timed out after ${cap}s"; else STATUS[$name]="failed (exit $rc)"; fi
    FAILED=1
    tail -n 25 "$LOGS/$name.log" | sed "s/^/    $name| /"
  fi
  say "$name: ${STATUS[$name]} in ${TOOK[$name]}s"
  ((rc == 0))
}

# 1. the gpu-marked tests; the counts go into gpu_check.json
step gpu-tests 240 "$PY" -m pytest -p no:cacheprovider -m gpu -rfEs --junitxml="$WORK/gpu-tests.xml" || true
"$PY" - "$WORK/gpu-tests.xml" "$WORK/gpu-tests.json" <<'EOF' || true
import json, sys, xml.etree.ElementTree as ET
suite = ET.parse(sys.argv[1]).getroot()
suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
counts = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
counts["passed"] = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
counts["not_passed"] = [c.get("classname", "") + "::" + c.get("name", "") for c in suite.iter("testcase")
                        if c.find("failure") is not None or c.find("error") is not None or c.find("skipped") is not None]
json.dump(counts, open(sys.argv[2], "w"))
EOF
if [[ "${STATUS[gpu-tests]}" == ok ]] && grep -q '"skipped": [1-9]' "$WORK/gpu-tests.json" 2>/dev/null; then
  STATUS[gpu-tests]="tests skipped on a GPU machine"; FAILED=1  # every gpu test must run here
fi

# 2. training steps of the 256 px preset in bf16 and fp16 (60 steps of batch 32 each)
step collect-256 60 "$PY" -m belamy collect --demo portraits --demo-count 64 --size 256 -o "$WORK/coll256" || true
STATS_PY='
import json, math, sys
rows = [json.loads(x) for x in open(sys.argv[1] + "/stats.jsonl")]
timed = [r for r in rows if "img_s" in r][1:] or [r for r in rows if "img_s" in r]  # after the first interval
last = rows[-1]
out = {"amp": sys.argv[2], "steps": last["step"], "img_s": round(sum(r["img_s"] for r in timed) / len(timed), 1),
       "cuda_peak_mb": max(r["mem_mb"].get("cuda_peak", 0.0) for r in rows),
       "loss_D": last.get("loss_D"), "loss_G": last.get("loss_G")}
json.dump(out, open(sys.argv[3], "w"))
print(json.dumps(out))
sys.exit(not all(math.isfinite(r[k]) for r in rows for k in ("loss_D", "loss_G") if k in r))
'
for amp in bf16 fp16; do
  [[ "${STATUS[collect-256]}" == ok ]] || continue
  if step "train-256-$amp" 90 "$PY" -m belamy train "$WORK/coll256" -o "$WORK/run-$amp" --preset portrait-256 \
       --amp "$amp" --device cuda --steps 60 --set log_steps=15 --preview-kimg 0 --checkpoint-kimg 0 \
       --set checkpoint_minutes=0 --set originality_n=0; then
    if ! "$PY" -c "$STATS_PY" "$WORK/run-$amp" "$amp" "$WORK/train-256-$amp.json" >>"$LOGS/train-256-$amp.log" 2>&1; then
      STATUS[train-256-$amp]="trained, but non-finite losses or no stats"; FAILED=1
    fi
  fi
done

# 3. sampling the bf16 run on the GPU; one image re-rendered from its record gives the same pixels
SAME_PY='
import sys, numpy as np
from PIL import Image
a, b = (np.asarray(Image.open(p)) for p in sys.argv[1:3])
print("re-rendered from its record:", "same pixels" if np.array_equal(a, b) else "DIFFERENT pixels")
sys.exit(not np.array_equal(a, b))
'
if [[ "${STATUS[train-256-bf16]:-}" == ok ]]; then
  step sample-256 60 bash -c '"$1" -m belamy sample "$2/run-bf16" --seeds 0-31 --truncation 0.7 --device cuda -o "$2/renders" \
    && "$1" -m belamy sample --record "$2/renders/seed0005.record.json" --device cuda -o "$2/seed0005-again.png" \
    && "$1" -c "$3" "$2/renders/seed0005.png" "$2/seed0005-again.png"' _ "$PY" "$WORK" "$SAME_PY" || true
fi

# 4-5. the speed benchmarks, with their own JSON
step train-speed 180 "$PY" benchmarks/train_speed.py --device cuda --steps 100 || true
step sample-speed 90 "$PY" benchmarks/sample_speed.py --device cuda || true

# -- 3. summary ------------------------------------------------------------------------------------
for n in "${NAMES[@]}"; do printf '%s\t%s\t%s\n' "$n" "${STATUS[$n]}" "${TOOK[$n]}"; done >"$WORK/steps.tsv"
echo
"$PY" - "$WORK" "$ROOT/benchmarks" "$(head -n 1 <<<"$gpus" | sed 's/ (UUID.*//')" <<'EOF' || FAILED=1
import json, sys
from pathlib import Path

import torch

work, gpu = Path(sys.argv[1]), sys.argv[3]
sys.path.insert(0, sys.argv[2])
from common import write_result  # noqa: E402


def load(name):
    p = work / name
    return json.loads(p.read_text()) if p.is_file() else None


steps = [{"step": n, "status": s, "seconds": int(t)} for n, s, t in
         (line.split("\t") for line in (work / "steps.tsv").read_text().splitlines())]
tests = load("gpu-tests.json")
rows = [r for r in (load("train-256-bf16.json"), load("train-256-fp16.json")) if r]
write_result("gpu_check", {"device": torch.cuda.get_device_name(), "cuda": torch.version.cuda,
                           "steps": steps, "gpu_tests": tests, "portrait_256": rows})
print(f"== belamy GPU check on {gpu}")
for s in steps:
    print(f"  {s['step']:18s} {s['status']:40s} {s['seconds']:4d}s")
if tests:
    print(f"  gpu tests: {tests['passed']} passed, {tests['failures']} failed, {tests['errors']} errors, "
          f"{tests['skipped']} skipped")
    for t in tests["not_passed"]:
        print(f"    not passed: {t}")
for r in rows:
    print(f"  portrait-256 {r['amp']}: {r['img_s']} img/s, {r['cuda_peak_mb']:.0f} MB GPU peak, {r['steps']} steps")
EOF
echo "  JSON written:"
find "$RESULTS" -maxdepth 1 -name '*.json' -newer "$WORK/start" | sort | sed 's/^/    /'
echo "  logs: $LOGS"
if ((FAILED)); then
  echo "gpu_check: FAILED (see the steps above and their logs)"
  exit 1
fi
echo "gpu_check: all passed in $((SECONDS - DEADLINE + BUDGET))s"
