"""Feature-extractor weights: genlab's domain extractors, or Inception from the torch hub cache."""

from __future__ import annotations

import hashlib
import io
import socket
from pathlib import Path
from typing import Any
from urllib.error import URLError

import torch

from genlab._compat.torch_fidelity import URL_INCEPTION_V3, in_memory_weights
from genlab.errors import CheckpointError, ConfigError, GenlabError
from genlab.metrics.domain import (
    DOMAIN_EXTRACTORS,
    DomainClassifier,
    load_classifier,
    resolve_domain_weights,
)

INCEPTION = "inception-v3-compat"
EXTRACTORS = (INCEPTION, *DOMAIN_EXTRACTORS)


class WeightsNotFoundError(GenlabError):
    """Feature-extractor weights are missing and cannot be downloaded."""


def inception_cache_path() -> Path:
    """Where torch-fidelity's own download would put the weights (the torch hub cache)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / URL_INCEPTION_V3.rsplit("/", 1)[-1]


def resolve_inception_weights(weights_path: str | None, timeout_s: float = 30.0) -> Path:
    if weights_path is not None:
        path = Path(weights_path)
        if not path.is_file():
            raise ConfigError(f"metrics.weights_path={path} does not exist")
        return path
    cached = inception_cache_path()
    if cached.is_file():
        return cached
    cached.parent.mkdir(parents=True, exist_ok=True)
    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout_s)
    try:
        torch.hub.download_url_to_file(URL_INCEPTION_V3, str(cached), progress=False)
    except (URLError, OSError, ValueError) as exc:
        raise WeightsNotFoundError(
            f"the Inception weights for FID/IS/KID ({cached.name}) are not on this machine and "
            f"downloading them failed ({type(exc).__name__}: {' '.join(str(exc).split())[:160]}). "
            f"Fix: download {URL_INCEPTION_V3} on a machine with internet and put it at {cached}, "
            "or pass metrics.weights_path=FILE. Offline alternatives: "
            "metrics.extractor=genlab-fashion-mnist-cnn (Fashion-MNIST), or metrics=off"
        ) from exc
    finally:
        socket.setdefaulttimeout(previous_timeout)
    return cached


def resolve_weights(extractor: str, weights_path: str | None) -> Path:
    """The weights file an extractor will load, failing early with the fix if there is none."""
    if extractor == INCEPTION:
        path = resolve_inception_weights(weights_path)
        _load_tensors(path)  # a damaged or foreign file fails now, not after training
        return path
    if extractor in DOMAIN_EXTRACTORS:
        path = resolve_domain_weights(extractor, weights_path)
        load_classifier(DomainClassifier(), path)  # a wrong file fails now, not after training
        return path
    raise ConfigError(
        f"unknown metrics.extractor {extractor!r}; choose one of {', '.join(EXTRACTORS)}"
    )


def weights_for_torch_fidelity(extractor: str, path: Path, sha256: str) -> str | io.BytesIO:
    """What torch-fidelity's ``feature_extractor_weights_path`` gets.

    torch-fidelity loads Inception's weights with ``torch.load(weights_only=False)``, which runs
    whatever code a pickle carries, from the torch hub cache or ``metrics.weights_path``, often
    shared folders. So genlab reads the file once, checks that it is the file the protocol
    recorded (its SHA256, written beside every number), loads it tensors-only and hands
    torch-fidelity an in-memory copy saved again from those tensors: the bytes torch-fidelity
    unpickles are genlab's, and a file swapped after the check is never read
    (:func:`genlab._compat.torch_fidelity.in_memory_weights`). genlab's own extractors load
    their weights tensors-only and get the path.
    """
    if extractor != INCEPTION:
        return str(path)
    data = path.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise CheckpointError(
            f"{path} changed while genlab was running: its SHA256 is {actual}, the evaluation "
            f"protocol recorded {sha256}; restore the file, or start again to use the new one"
        )
    return in_memory_weights(_load_tensors(path, data))


def _load_tensors(path: Path, data: bytes | None = None) -> Any:
    """The weights in ``path`` (or its bytes ``data``, already read) as tensors and plain
    containers; any other object is refused without being built."""
    source = path if data is None else io.BytesIO(data)
    try:
        return torch.load(source, map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling errors come in many types
        raise CheckpointError(
            f"{path} is not a readable weights file ({type(exc).__name__}): it is damaged, "
            "truncated or holds more than tensors; replace it or pass another "
            "metrics.weights_path"
        ) from exc
