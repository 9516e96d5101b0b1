"""Every option of every config group composes through genlab's Hydra composition, and every
network, likelihood and optimizer option builds inside the models that use its group and does
its job on a batch. The groups and options are found in conf/, so a new YAML file is tested
without editing this file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
import torch
import yaml
from hydra.core.hydra_config import HydraConfig
from hydra.utils import get_class, instantiate
from omegaconf import DictConfig, OmegaConf

from genlab.config import check_train_config
from genlab.models import GenerativeModule
from tests.helpers import CONF, compose_app, compose_train, config_options, model_options

# The ranges of the generators' output layers.
OUTPUT_RANGES = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}
# The apps whose configs a group can belong to; train first, since most groups are its own.
APPS = ["train", *sorted(p.stem for p in CONF.glob("*.yaml") if p.stem != "train")]


class Case(NamedTuple):
    """``key=option`` composed into ``app``'s config with ``base`` overrides first."""

    app: str
    key: str  # the override's key: a group, with its package where the defaults list gives one
    option: str
    base: tuple[str, ...] = ()

    @property
    def group(self) -> str:
        return self.key.partition("@")[0]

    @property
    def id(self) -> str:
        return " ".join([*self.base, f"{self.key}={self.option}"])


def defaults_groups(path: Path) -> Iterator[tuple[str, str | None]]:
    """(group, package) of each group entry in a config file's defaults list."""
    for entry in yaml.safe_load(path.read_text()).get("defaults", []):
        if isinstance(entry, dict):
            ((key, _),) = entry.items()
            group, _, package = key.removeprefix("override ").strip().lstrip("/").partition("@")
            yield group, package or None


def cases() -> list[Case]:
    """One case per option of every group: the apps' groups, Hydra's groups that genlab adds
    options to, and each model's sub-groups inside the first model that uses them."""
    found: dict[tuple[str, str], Case] = {}

    def add(app: str, key: str, base: tuple[str, ...] = ()) -> None:
        group = key.partition("@")[0]
        for option in config_options(group) if (CONF / group).is_dir() else []:
            found.setdefault((group, option), Case(app, key, option, base))

    for app in APPS:
        for group, _ in defaults_groups(CONF / f"{app}.yaml"):
            add(app, group)
    for folder in sorted((CONF / "hydra").iterdir()):
        if folder.is_dir():
            add("train", f"hydra/{folder.name}")
    for model in model_options():
        for group, package in defaults_groups(CONF / "model" / f"{model}.yaml"):
            key = f"model/{group}" + (f"@model.{package}" if package else "")
            add("train", key, (f"model={model}",))
    return list(found.values())


CASES = cases()


def hosts(group: str) -> list[Case]:
    """The cases of one of the model's sub-groups (model/generator, ...)."""
    return [case for case in CASES if case.group == group]


def test_every_config_folder_is_a_group_the_cases_cover() -> None:
    """A folder of options that no app or model names would escape these tests."""
    covered = {case.group for case in CASES}
    folders = {
        p.parent.relative_to(CONF).as_posix()
        for p in CONF.rglob("*.yaml")
        if p.parent != CONF and not p.parent.is_relative_to(CONF / "experiment")
    }
    assert folders - covered == set()
    assert {"model/generator", "model/optimizer", "data", "sweep", "baseline"} <= covered


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.app}:{case.id}")
def test_every_option_composes(case: Case, tmp_path: Path) -> None:
    """Composed as the app composes it, the option is the one chosen; a train config also
    passes genlab's own checks. Options that need a GPU (trainer=gpu, ddp, ...) or a network
    (logger=wandb online, downloads) are only composed here: instantiating them needs what
    these machines lack. test_configs.py and the tests below instantiate the rest."""
    overrides = [*case.base, f"{case.key}={case.option}"]
    if case.app == "train":
        check_train_config(compose_train(overrides, tmp_path))
        choices = HydraConfig.get().runtime.choices
    else:
        choices = compose_app(case.app, overrides).hydra.runtime.choices
    assert choices[case.key] == case.option


# --- the models' parts, inside the models that use them -------------------------------------


def build(case: Case, data: str, tmp_path: Path) -> tuple[GenerativeModule, DictConfig]:
    overrides = [*case.base, f"{case.key}={case.option}", f"data={data}"]
    cfg = compose_train(overrides, tmp_path)
    module = instantiate(cfg.model)
    assert isinstance(module, GenerativeModule)
    return module, cfg


def image_shape(cfg: DictConfig, n: int) -> tuple[int, int, int, int]:
    return (n, cfg.data.channels, cfg.data.image_size, cfg.data.image_size)


def real_batch(cfg: DictConfig, n: int) -> torch.Tensor:
    """Images in the model's value range, as the data module hands them over."""
    low, high = cfg.model.value_range
    return low + (high - low) * torch.rand(
        image_shape(cfg, n), generator=torch.Generator().manual_seed(0)
    )


def network_params(group: str) -> list:
    return [
        pytest.param(case, data, id=f"{case.id} data={data}")
        for case in hosts(group)
        for data in config_options("data")
    ]


@pytest.mark.parametrize(("case", "data"), network_params("model/generator"))
def test_generators_make_images_in_the_models_value_range(
    case: Case, data: str, tmp_path: Path
) -> None:
    module, cfg = build(case, data, tmp_path)
    with torch.no_grad():
        images = module.generator(module.sample_latent(4))
    assert images.shape == image_shape(cfg, 4)
    output_low, output_high = OUTPUT_RANGES[cfg.model.generator.output]
    low, high = cfg.model.value_range
    assert max(low, output_low) <= images.min() and images.max() <= min(high, output_high)
    assert images.std() > 0


@pytest.mark.parametrize(("case", "data"), network_params("model/discriminator"))
def test_discriminators_score_each_image_once(case: Case, data: str, tmp_path: Path) -> None:
    module, cfg = build(case, data, tmp_path)
    with torch.no_grad():
        scores = module.discriminator(real_batch(cfg, 4))
    assert scores.shape in ((4,), (4, 1))
    assert torch.isfinite(scores).all() and scores.std() > 0


@pytest.mark.parametrize(("case", "data"), network_params("model/encoder"))
def test_encoders_give_a_gaussian_of_the_latent_size(case: Case, data: str, tmp_path: Path) -> None:
    module, cfg = build(case, data, tmp_path)
    with torch.no_grad():
        mean, logvar = module.encoder(real_batch(cfg, 4))
    assert mean.shape == logvar.shape == (4, cfg.model.latent_dim)
    assert torch.isfinite(mean).all() and torch.isfinite(logvar).all()


@pytest.mark.parametrize(("case", "data"), network_params("model/decoder"))
def test_decoders_make_images(case: Case, data: str, tmp_path: Path) -> None:
    module, cfg = build(case, data, tmp_path)
    with torch.no_grad():
        assert module.decoder(module.sample_latent(4)).shape == image_shape(cfg, 4)
        samples = module.sample(4, seed=0)
    assert samples.shape == image_shape(cfg, 4)
    assert samples.min() >= 0.0 and samples.max() <= 1.0


@pytest.mark.parametrize("case", hosts("model/likelihood"), ids=lambda case: case.id)
def test_likelihoods_prefer_the_images_their_means_round_to(case: Case, tmp_path: Path) -> None:
    module, cfg = build(case, "fashion_mnist", tmp_path)
    likelihood = module.likelihood
    with torch.no_grad():
        out = module.decoder(module.sample_latent(4))
    mean = likelihood.mean(out)
    assert mean.shape == image_shape(cfg, 4) and mean.min() >= 0.0 and mean.max() <= 1.0
    near, far = mean.round(), 1.0 - mean.round()
    assert torch.isfinite(likelihood.nll(out, near)).all()
    assert likelihood.nll(out, near).sum() < likelihood.nll(out, far).sum()


@pytest.mark.parametrize("case", hosts("model/optimizer"), ids=lambda case: case.id)
def test_optimizers_step_the_parameters_they_are_given(case: Case, tmp_path: Path) -> None:
    module, cfg = build(case, "fashion_mnist", tmp_path)
    slot = cfg.model[case.key.partition("@model.")[2] or "optimizer"]
    optimizers = module.configure_optimizers()
    optimizers = optimizers if isinstance(optimizers, list) else [optimizers]
    settings = {k: v for k, v in OmegaConf.to_container(slot).items() if not k.startswith("_")}
    chosen = [
        o
        for o in optimizers
        if type(o) is get_class(slot._target_)
        and all(_same(o.defaults[k], v) for k, v in settings.items())
    ]
    assert chosen, (settings, optimizers)
    for optimizer in chosen:
        params = [p for group in optimizer.param_groups for p in group["params"]]
        before = [p.detach().clone() for p in params]
        optimizer.zero_grad()
        sum((p**2).sum() for p in params).backward()
        optimizer.step()
        assert params and any(not torch.equal(b, p) for b, p in zip(before, params, strict=True))


def _same(value: object, configured: object) -> bool:
    return (
        tuple(value) == tuple(configured) if isinstance(configured, list) else value == configured
    )
