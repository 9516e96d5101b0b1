#!/usr/bin/env bash
# Sets up genlab for development and training, idempotently:
#   1. a virtual environment in .venv (python3 -m venv) at the repository root,
#   2. PyTorch (pinned) and genlab in editable mode with its dev tools (pytest, ruff),
#   3. Fashion-MNIST, genlab's offline default dataset (Debian package dataset-fashion-mnist).
# Re-running is fast: the pip steps are skipped while .venv/.genlab-installed is newer than
# pyproject.toml and this script. GENLAB_SETUP_FORCE=1 re-runs them anyway.
# Usage: scripts/setup.sh   (or: make setup)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

PYTHON="${PYTHON:-python3}"
VENV=.venv
STAMP="$VENV/.genlab-installed"
TORCH_PINS=(torch==2.14.1 torchvision==0.29.1)
FMNIST_MIRROR=/usr/share/datasets/fashion-mnist
FMNIST_FILES=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# --- apt-get, only where it works without a password --------------------------------------
APT=()
if command -v apt-get >/dev/null 2>&1; then
    if [[ $EUID -eq 0 ]]; then
        APT=(env DEBIAN_FRONTEND=noninteractive apt-get)
    elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
        APT=(sudo -n env DEBIAN_FRONTEND=noninteractive apt-get)
    fi
fi
APT_UPDATED=0
apt_install() {
    [[ ${#APT[@]} -gt 0 ]] || return 1
    if [[ $APT_UPDATED -eq 0 ]]; then
        "${APT[@]}" update -q || return 1
        APT_UPDATED=1
    fi
    "${APT[@]}" install -y -q "$@"
}

# --- 1. the virtual environment -------------------------------------------------------------
create_venv() {
    command -v "$PYTHON" >/dev/null 2>&1 || return 1
    "$PYTHON" -m venv "$VENV"
}

if [[ ! -x $VENV/bin/python || ! -x $VENV/bin/pip ]]; then
    if command -v "$PYTHON" >/dev/null 2>&1; then
        "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
            || die "genlab needs Python >= 3.10; $PYTHON is $("$PYTHON" -V 2>&1). Set PYTHON=python3.X"
    fi
    rm -rf "$VENV"  # a half-made venv (no pip) would be taken as done next time
    say "creating $VENV with $PYTHON -m venv"
    if ! create_venv; then
        rm -rf "$VENV"
        # Debian/Ubuntu ship venv's pip bootstrap (ensurepip) separately, in python3-venv.
        say "$PYTHON -m venv failed; installing python3 and python3-venv with apt-get"
        { apt_install python3 python3-venv && create_venv; } || {
            rm -rf "$VENV"
            die "cannot create $VENV. Install Python >= 3.10 with its venv module" \
                "(Debian/Ubuntu: apt-get install python3 python3-venv), then re-run."
        }
    fi
fi

# --- 2. PyTorch and genlab ------------------------------------------------------------------
# Machines whose pip configuration lists local package folders make pip warn once per missing
# folder ("WARNING: Location 'file://...' is ignored"): dozens of lines of noise, dropped here.
# Everything else pip says (errors included) is shown, and pip's exit status is kept.
PIP_NOISE="^WARNING: Location 'file://[^']*' is ignored: it is neither a file nor a directory\.\$"
pip_install() {
    "$VENV/bin/pip" install -q "$@" 2>&1 | { grep -v -E "$PIP_NOISE" || true; }
}

installed() {
    # genlab importable from this checkout's src/, torch and torchvision present; nothing is
    # imported (importing torch takes seconds).
    "$VENV/bin/python" - "$REPO_ROOT/src" <<'PY' >/dev/null 2>&1
import importlib.util, os, sys
spec = importlib.util.find_spec("genlab")
assert spec is not None and spec.origin is not None
assert os.path.realpath(spec.origin).startswith(os.path.realpath(sys.argv[1]) + os.sep)
assert importlib.util.find_spec("torch") is not None
assert importlib.util.find_spec("torchvision") is not None
PY
}

if [[ ${GENLAB_SETUP_FORCE:-0} != 1 && -f $STAMP && $STAMP -nt pyproject.toml \
      && $STAMP -nt scripts/setup.sh ]] && installed; then
    say "$VENV is up to date (genlab and ${TORCH_PINS[*]})"
else
    rm -f "$STAMP"
    say "installing ${TORCH_PINS[*]} into $VENV (several minutes the first time)"
    pip_install "${TORCH_PINS[@]}"
    say "installing genlab (editable) with its dev tools into $VENV"
    pip_install -e '.[dev]'
    installed || die "genlab is not importable from $REPO_ROOT/src after pip install"
    touch "$STAMP"
fi

# --- 3. Fashion-MNIST -----------------------------------------------------------------------
have_all() {  # have_all DIR SUFFIX: the four IDX files, with SUFFIX ("" or ".gz"), in DIR
    local name
    for name in "${FMNIST_FILES[@]}"; do [[ -f $1/$name$2 ]] || return 1; done
}

if have_all "$FMNIST_MIRROR" .gz; then
    say "Fashion-MNIST: found in $FMNIST_MIRROR"
elif have_all data/FashionMNIST/raw ""; then
    say "Fashion-MNIST: found in data/FashionMNIST/raw"
elif [[ ${#APT[@]} -gt 0 ]]; then
    say "Fashion-MNIST: installing the Debian package dataset-fashion-mnist"
    if apt_install dataset-fashion-mnist && have_all "$FMNIST_MIRROR" .gz; then
        say "Fashion-MNIST: installed in $FMNIST_MIRROR"
    else
        say "warning: could not install dataset-fashion-mnist; genlab will download" \
            "Fashion-MNIST through torchvision on first use (needs internet)" >&2
    fi
else
    hint=""
    if command -v apt-get >/dev/null 2>&1; then
        hint=" (or, as root: apt-get install dataset-fashion-mnist)"
    fi
    say "Fashion-MNIST: not on this machine; genlab will download it through torchvision on" \
        "first use (needs internet)$hint"
fi

say "done. Train: make quickstart (or $VENV/bin/python scripts/train.py ...); test: make test"
