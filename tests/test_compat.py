"""Library internals stay behind one seam, genlab/_compat/, and the installed libraries still
provide what the seam relies on.

The tests folder is not held to the seam: some tests check genlab against a library's
internals on purpose (the W&B stand-in server speaks W&B's internal protocol, a config test
reads the DDP kwargs Lightning's strategy will pass), and a library change there fails the
suite loudly, never a user's run.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import re
from importlib.metadata import version
from pathlib import Path

import pytest
import torch

from genlab._compat import Internal, lightning, optuna, torch_fidelity, wandb
from tests.helpers import REPO
from tests.private_names import PrivateUse, scan

SEAM = "src/genlab/_compat/"
HELD_TO_THE_SEAM = ("src", "scripts", "benchmarks", "notebooks")
RELIES_ON: tuple[Internal, ...] = (
    *lightning.RELIES_ON,
    *optuna.RELIES_ON,
    *wandb.RELIES_ON,
    *torch_fidelity.RELIES_ON,
)


@pytest.fixture(scope="module")
def private_uses() -> list[PrivateUse]:
    return scan(REPO, HELD_TO_THE_SEAM)


def test_library_internals_are_used_in_the_seam_only(private_uses: list[PrivateUse]) -> None:
    outside = [str(use) for use in private_uses if not use.path.startswith(SEAM)]
    assert not outside, (
        "library internals used outside genlab/_compat/ (move each behind a function there, "
        "with why the public API does not serve, and list it in RELIES_ON):\n" + "\n".join(outside)
    )


def test_the_seam_lists_every_private_name_it_uses(private_uses: list[PrivateUse]) -> None:
    listed = (
        {str(i) for i in RELIES_ON} | {i.name for i in RELIES_ON} | {i.owner for i in RELIES_ON}
    )
    unlisted = [
        str(use) for use in private_uses if use.path.startswith(SEAM) and use.name not in listed
    ]
    assert not unlisted, (
        "private names the seam uses but does not list in RELIES_ON:\n" + "\n".join(unlisted)
    )


def test_the_scan_finds_each_kind_of_private_use(tmp_path: Path) -> None:
    """The scan itself: a planted file with each kind of use is reported line by line."""
    planted = tmp_path / "src" / "genlab" / "planted.py"
    planted.parent.mkdir(parents=True)
    planted.write_text(
        "from optuna.storages._heartbeat import BaseHeartbeat\n"  # 1: a private module
        "from torch_fidelity.metric_fid import fid_statistics_to_metric\n"  # 2: not exported
        "from wandb.sdk.lib import wbauth\n"  # 3: W&B's internal package
        "from pytorch_lightning.callbacks import ModelCheckpoint\n"
        "def should_log(trainer):\n"
        "    return trainer._logger_connector.should_update_logs\n"  # 6: a library attribute
        "class Saver(ModelCheckpoint):\n"
        "    def _save_last_checkpoint(self, trainer, candidates):\n"  # 8: an override
        "        self._last_global_step_saved = 0\n"  # 9: a library attribute, written
        "def target(cfg):\n"
        "    return cfg._target_, getattr(cfg, '_private_thing')\n"  # 11: getattr
    )
    found = {(use.line, use.name) for use in scan(tmp_path, ("src",))}
    assert found == {
        (1, "optuna.storages._heartbeat.BaseHeartbeat"),
        (2, "torch_fidelity.metric_fid.fid_statistics_to_metric"),
        (3, "wandb.sdk.lib.wbauth"),
        (6, "_logger_connector"),
        (8, "_save_last_checkpoint"),
        (9, "_last_global_step_saved"),
        (11, "_private_thing"),
    }


SEAM_CLASSES = (
    lightning.CheckpointInternals,
    lightning.RichProgressBarInternals,
    optuna.HeartbeatStorage,
)


@pytest.mark.parametrize("seam_class", SEAM_CLASSES, ids=lambda cls: cls.__name__)
def test_the_seams_classes_add_names_their_library_class_does_not_have(
    seam_class: type,
) -> None:
    """A seam class gives internals new public names: one the library's class already has
    (its ``save_last`` setting, say) would replace the library's, not add to it. The private
    hooks it overrides on purpose are those it lists."""
    library = [cls for cls in seam_class.__mro__[1:] if cls.__module__.split(".")[0] != "genlab"]
    theirs: set[str] = set()
    for cls in library:
        theirs |= set(vars(cls))
        with contextlib.suppress(OSError, TypeError):
            theirs |= set(re.findall(r"\bself\.(\w+)", inspect.getsource(cls)))
    overrides = {i.name for i in RELIES_ON}
    added = {name for name in vars(seam_class) if not name.startswith("__")} - {"_abc_impl"}
    assert not (added & theirs) - overrides, (
        f"{seam_class.__name__} replaces its library's {sorted((added & theirs) - overrides)}"
    )


def _lookup(internal: Internal) -> object:
    """The object ``internal.name`` is looked up on: a module, a class or an instance."""
    if internal.instance is not None:
        return internal.instance()
    module_path, _, attribute = internal.owner.rpartition(".")
    try:
        return importlib.import_module(internal.owner)
    except ImportError:
        pass
    try:
        return getattr(importlib.import_module(module_path), attribute)
    except (ImportError, AttributeError) as exc:
        pytest.fail(_changed(internal, f"{internal.owner} is gone ({exc})"))


def _changed(internal: Internal, what: str) -> str:
    return (
        f"{internal.distribution} {version(internal.distribution)}: {what}; genlab's seam "
        f"(genlab/_compat/) relies on {internal}: adapt the seam's function that uses it"
    )


@pytest.mark.parametrize("internal", RELIES_ON, ids=str)
def test_the_installed_libraries_still_provide_what_the_seam_relies_on(
    internal: Internal,
) -> None:
    owner = _lookup(internal)
    if not hasattr(owner, internal.name):
        pytest.fail(_changed(internal, f"{internal} is gone"))
    if internal.params is None:
        return
    target = getattr(owner, internal.name)
    parameters = inspect.signature(target).parameters
    names = [name for name in parameters if name != "self"]
    kinds = {p.kind for p in parameters.values()}
    expected = [name for name in internal.params if name != "kwargs"]
    missing = [name for name in expected if name not in names]
    if "kwargs" in internal.params and inspect.Parameter.VAR_KEYWORD not in kinds:
        missing.append("**kwargs")
    assert not missing and (internal.params or not names), _changed(
        internal, f"its parameters are now ({', '.join(names)}), the seam passes {internal.params}"
    )


@pytest.mark.slow
def test_torch_fidelity_loads_inception_weights_from_a_file_object(tmp_path: Path) -> None:
    """genlab hands Inception's checked weights over as bytes in memory, not as a path."""
    from torch_fidelity import FeatureExtractorInceptionV3

    from genlab.metrics.extractor_weights import INCEPTION

    path = torch_fidelity.save_random_inception_weights(tmp_path / "inception.pth", INCEPTION)
    weights = torch.load(path, weights_only=True)
    extractor = FeatureExtractorInceptionV3(
        INCEPTION,
        ["2048"],
        feature_extractor_weights_path=torch_fidelity.in_memory_weights(weights),
    )
    loaded = extractor.state_dict()
    assert loaded.keys() == weights.keys()
    assert all(torch.equal(loaded[key], weights[key]) for key in weights), _changed(
        Internal("torch-fidelity", "torch_fidelity.FeatureExtractorInceptionV3", "__init__"),
        "weights passed as a file object were not the weights it loaded",
    )
