"""torch-fidelity internals genlab relies on, each with why the public API does not serve.

torch-fidelity's public entry, ``calculate_metrics``, takes two inputs and extracts their
features itself. genlab needs the steps under it: the real images' features come from genlab's
own cache (tensors only; torch-fidelity's cache unpickles whatever file it finds), one
extraction of the generated images serves every metric and the FID-infinity fit over subsets
of them (genlab.metrics.extrapolation), which computes FID from features, not from inputs.
Those steps are functions of torch-fidelity's modules that its package does not export.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import torch
from torch_fidelity import feature_extractor_inceptionv3 as _inception
from torch_fidelity.feature_extractor_inceptionv3 import URL_INCEPTION_V3
from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric
from torch_fidelity.metric_isc import isc_features_to_metric, isc_featuresdict_to_metric
from torch_fidelity.metric_kid import kid_featuresdict_to_metric
from torch_fidelity.metric_prc import prc_features_to_metric, prc_featuresdict_to_metric
from torch_fidelity.utils import (
    create_feature_extractor,
    extract_featuresdict_from_input_id,
    resolve_feature_layer_for_metric,
)

from genlab._compat import Internal

__all__ = [
    "URL_INCEPTION_V3", "create_feature_extractor", "extract_featuresdict_from_input_id",
    "fid_features_to_statistics", "fid_statistics_to_metric", "in_memory_weights",
    "isc_features_to_metric", "isc_featuresdict_to_metric", "kid_featuresdict_to_metric",
    "prc_features_to_metric", "prc_featuresdict_to_metric", "resolve_feature_layer_for_metric",
    "save_random_inception_weights",
]  # fmt: skip


def in_memory_weights(tensors: Any) -> io.BytesIO:
    """Weights for ``feature_extractor_weights_path`` as a file object, not a file.

    torch-fidelity documents that argument as a path and passes it to ``torch.load``
    (``weights_only=False``), which takes a file object too: genlab hands it bytes it saved
    itself from tensors it loaded tensors-only (genlab.metrics.extractor_weights)."""
    copy = io.BytesIO()
    torch.save(tensors, copy)
    copy.seek(0)
    return copy


def save_random_inception_weights(path: Path, name: str) -> Path:
    """Inception's architecture with random weights, saved as a weights file: the published
    weights' shape, for runs that cannot download them (benchmarks, tests)."""
    # The extractor downloads and loads its weights in __init__, with no argument to skip them.
    original = (
        _inception.load_state_dict_from_url,
        _inception.FeatureExtractorInceptionV3.load_state_dict,
    )
    _inception.load_state_dict_from_url = lambda *args, **kwargs: {}
    _inception.FeatureExtractorInceptionV3.load_state_dict = lambda *args, **kwargs: None
    try:
        network = _inception.FeatureExtractorInceptionV3(name, ["2048"])
    finally:
        (
            _inception.load_state_dict_from_url,
            _inception.FeatureExtractorInceptionV3.load_state_dict,
        ) = original
    torch.save(network.state_dict(), path)
    return path


_TF = "torch-fidelity"
_KWARGS = ("kwargs",)
RELIES_ON = (
    Internal(_TF, "torch_fidelity.feature_extractor_inceptionv3", "URL_INCEPTION_V3"),
    Internal(_TF, "torch_fidelity.feature_extractor_inceptionv3", "load_state_dict_from_url"),
    Internal(
        _TF,
        "torch_fidelity.feature_extractor_inceptionv3",
        "FeatureExtractorInceptionV3",
        ("name", "features_list", "feature_extractor_weights_path"),
    ),
    Internal(_TF, "torch_fidelity.metric_fid", "fid_features_to_statistics", ("features",)),
    Internal(
        _TF,
        "torch_fidelity.metric_fid",
        "fid_statistics_to_metric",
        ("stat_1", "stat_2", "verbose"),
    ),
    Internal(
        _TF, "torch_fidelity.metric_isc", "isc_features_to_metric", ("feature", "splits", "shuffle")
    ),
    Internal(
        _TF,
        "torch_fidelity.metric_isc",
        "isc_featuresdict_to_metric",
        ("featuresdict", "feat_layer_name", *_KWARGS),
    ),
    Internal(
        _TF,
        "torch_fidelity.metric_kid",
        "kid_featuresdict_to_metric",
        ("featuresdict_1", "featuresdict_2", "feat_layer_name", *_KWARGS),
    ),
    Internal(
        _TF,
        "torch_fidelity.metric_prc",
        "prc_featuresdict_to_metric",
        ("featuresdict_1", "featuresdict_2", "feat_layer_name", *_KWARGS),
    ),
    Internal(
        _TF,
        "torch_fidelity.metric_prc",
        "prc_features_to_metric",
        ("features_1", "features_2", *_KWARGS),
    ),
    Internal(
        _TF,
        "torch_fidelity.utils",
        "create_feature_extractor",
        ("name", "list_features", "cuda", *_KWARGS),
    ),
    Internal(
        _TF,
        "torch_fidelity.utils",
        "extract_featuresdict_from_input_id",
        ("input_id", "feat_extractor", *_KWARGS),
    ),
    Internal(_TF, "torch_fidelity.utils", "resolve_feature_layer_for_metric", ("metric", *_KWARGS)),
)
