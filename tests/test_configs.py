"""Every config in conf/ composes, and every object it names instantiates."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.utils import get_object, instantiate
from omegaconf import DictConfig, ListConfig, OmegaConf

from genlab.compare.stats import METRICS
from genlab.models import GenerativeModule
from genlab.reproduce.baseline import Baseline
from genlab.training.assembly import instantiate_group
from tests.helpers import CONF, compose_train, config_options, model_options


def test_groups_hold_the_contracted_options() -> None:
    assert set(model_options()) >= {"gan", "wgan_gp", "vae"}
    assert set(config_options("data")) >= {"fashion_mnist", "mnist", "cifar10", "image_folder"}
    assert set(config_options("trainer")) >= {"cpu", "gpu"}
    assert set(config_options("logger")) >= {"wandb", "csv", "tensorboard", "none"}
    assert set(config_options("model/loss")) >= {
        "non_saturating",
        "minimax",
        "hinge",
        "least_squares",
    }


@pytest.mark.parametrize("model", model_options())
@pytest.mark.parametrize("data", config_options("data"))
def test_model_and_data_instantiate(model: str, data: str, tmp_path: Path) -> None:
    overrides = [f"model={model}", f"data={data}"]
    if data == "image_folder":
        overrides += ["data.path=unused", "data.image_size=32"]
    cfg = compose_train(overrides, tmp_path)
    module = instantiate(cfg.model)
    assert isinstance(module, GenerativeModule)
    images = module.sample(4, seed=0)
    assert images.shape == (4, cfg.data.channels, cfg.data.image_size, cfg.data.image_size)
    assert images.min() >= 0.0 and images.max() <= 1.0
    assert isinstance(instantiate(cfg.data), pl.LightningDataModule)


@pytest.mark.parametrize("loss", config_options("model/loss"))
def test_every_loss_plugs_into_the_gan(loss: str, tmp_path: Path) -> None:
    """Each side's loss is a finite scalar that rewards that side: the discriminator for
    scoring real above fake, the generator for fakes scored high."""
    cfg = compose_train([f"model/loss={loss}"], tmp_path)
    loss_fn = instantiate(cfg.model).loss
    high, low = torch.ones(8, 1), -torch.ones(8, 1)
    right, wrong = loss_fn.discriminator(high, low), loss_fn.discriminator(low, high)
    fooled, caught = loss_fn.generator(high), loss_fn.generator(low)
    for value in (right, wrong, fooled, caught):
        assert value.shape == () and torch.isfinite(value)
    assert right < wrong and fooled < caught


@pytest.mark.parametrize("experiment", config_options("experiment"))
def test_experiments_compose(experiment: str, tmp_path: Path) -> None:
    cfg = compose_train([f"experiment={experiment}"], tmp_path)
    assert cfg.experiment_name == experiment
    assert isinstance(instantiate(cfg.model), GenerativeModule)


@pytest.mark.parametrize("name", config_options("baseline"))
def test_baselines_run_their_experiments_at_every_budget(name: str, tmp_path: Path) -> None:
    config = OmegaConf.to_container(OmegaConf.load(CONF / "baseline" / f"{name}.yaml"))
    baseline = Baseline.from_dict(config)
    assert baseline.name == name and baseline.paper_metric in METRICS
    for variant in baseline.variants:
        assert variant.experiment in config_options("experiment"), variant
        for budget in baseline.budgets.values():
            overrides = [*budget.overrides, *budget.variant_overrides.get(variant.name, ())]
            cfg = compose_train([f"experiment={variant.experiment}", *overrides], tmp_path)
            assert isinstance(instantiate(cfg.model), GenerativeModule), (variant, budget)


@pytest.mark.parametrize("logger", config_options("logger"))
@pytest.mark.parametrize("trainer", ["cpu", "ddp_cpu", "ddp_cpu_spawn"])
def test_loggers_trainers_callbacks_instantiate(logger: str, trainer: str, tmp_path: Path) -> None:
    cfg = compose_train([f"logger={logger}", f"trainer={trainer}"], tmp_path)
    loggers = instantiate_group(cfg.get("logger"))
    assert len(loggers) == (0 if logger == "none" else 1)
    callbacks = instantiate_group(cfg.callbacks)
    trainer_obj = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
    assert isinstance(trainer_obj, pl.Trainer)
    assert trainer_obj.max_steps == cfg.trainer.max_steps


def test_gpu_trainers_compose(tmp_path: Path) -> None:
    # Instantiating needs GPUs; here the composition and its values are what we can check.
    cfg = compose_train(["trainer=gpu"], tmp_path)
    assert cfg.trainer.accelerator == "gpu" and cfg.trainer.devices == 1
    for name, start_method in (("ddp", "popen"), ("ddp_spawn", "spawn")):
        cfg = compose_train([f"trainer={name}", "trainer.num_nodes=4"], tmp_path)
        assert (cfg.trainer.accelerator, cfg.trainer.devices, cfg.trainer.num_nodes) == (
            "gpu",
            -1,
            4,
        )
        assert cfg.trainer.strategy.start_method == start_method


@pytest.mark.parametrize(
    ("model", "find_unused"), [("gan", True), ("wgan_gp", True), ("vae", False)]
)
def test_ddp_strategy_handles_unused_parameters_only_where_needed(
    model: str, find_unused: bool, tmp_path: Path
) -> None:
    """GANs leave one network without gradients in each backward pass; the VAE does not, and
    skips the per-pass search DDP would otherwise make. An explicit value wins."""
    cfg = compose_train([f"model={model}", "trainer=ddp_cpu"], tmp_path)
    strategy = instantiate(cfg.trainer.strategy)
    assert strategy._ddp_kwargs["find_unused_parameters"] is find_unused
    assert strategy._ddp_kwargs["gradient_as_bucket_view"] is True
    forced = compose_train(
        [f"model={model}", "trainer=ddp_cpu", "trainer.strategy.find_unused_parameters=true"],
        tmp_path,
    )
    assert instantiate(forced.trainer.strategy)._ddp_kwargs["find_unused_parameters"] is True


def test_contract_overrides_apply(tmp_path: Path) -> None:
    cfg = compose_train(
        ["trainer.max_steps=7", "seed=3", "metrics.num_samples=128", "model.n_disc=2"], tmp_path
    )
    assert (cfg.trainer.max_steps, cfg.seed, cfg.metrics.num_samples) == (7, 3, 128)
    assert instantiate(cfg.model).n_disc == 2


def test_wgan_gp_follows_gulrajani_et_al(tmp_path: Path) -> None:
    cfg = compose_train(["model=wgan_gp"], tmp_path)
    model = instantiate(cfg.model)
    assert (model.n_disc, model.gp_weight) == (5, 10.0)
    assert cfg.model.optimizer_d.lr == 1e-4 and list(cfg.model.optimizer_d.betas) == [0.0, 0.9]
    norms = [m for m in model.discriminator.modules() if "Norm" in type(m).__name__]
    assert norms == [], "the WGAN-GP critic must not normalise across the batch"


def test_gan_follows_radford_et_al(tmp_path: Path) -> None:
    cfg = compose_train([], tmp_path)
    for name in ("optimizer_g", "optimizer_d"):
        assert cfg.model[name].lr == 2e-4 and list(cfg.model[name].betas) == [0.5, 0.999]


# Groups whose options are not objects genlab builds: diffs over the base config (experiment,
# debug), definitions read by genlab's own code (baseline, sweep), and Hydra's own settings.
_NOT_INSTANTIATED = {"experiment", "debug", "baseline", "sweep", "hydra"}


def _target_nodes(node: object, where: str) -> Iterator[tuple[str, DictConfig]]:
    if isinstance(node, DictConfig):
        if "_target_" in node:
            yield where, node
        for key in node:
            yield from _target_nodes(node._get_node(key), f"{where}.{key}")
    elif isinstance(node, ListConfig):
        for index in range(len(node)):
            yield from _target_nodes(node._get_node(index), f"{where}[{index}]")


def _python_defaults(target: object) -> dict[str, object]:
    """Each keyword's default in a function's signature or a class's ``__init__``, following
    ``**kwargs`` up genlab's part of the class hierarchy (a subclass's own default first)."""
    owners = (
        [c for c in target.__mro__ if "__init__" in vars(c)] if isinstance(target, type) else []
    )
    functions = [(c.__module__, vars(c)["__init__"]) for c in owners] or [
        (target.__module__, target)
    ]
    found: dict[str, object] = {}
    for module, function in functions:
        if not module.startswith("genlab."):
            break
        parameters = inspect.signature(function).parameters.values()
        for p in parameters:
            if p.default is not inspect.Parameter.empty:
                found.setdefault(p.name, p.default)
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
            break
    return found


def _instantiated_options() -> list[str]:
    return sorted(
        p.relative_to(CONF).with_suffix("").as_posix()
        for p in CONF.glob("*/**/*.yaml")
        if p.relative_to(CONF).parts[0] not in _NOT_INSTANTIATED
    )


@pytest.mark.filterwarnings("ignore:.*Defaults list is missing `_self_`")
def test_python_defaults_of_configured_classes_equal_the_yaml_values() -> None:
    """Defaults live in conf/: a genlab class that conf/ instantiates has no Python default
    for a key its YAML sets, unless the two are equal (a key set by interpolation, or to
    different values by two options, has none at all)."""
    assert "model/decoder/dcgan" in _instantiated_options()
    drift = []
    checked = 0
    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
        for option in _instantiated_options():
            for where, node in _target_nodes(compose(option), option):
                target = node._get_node("_target_")._value()
                if not str(target).startswith("genlab."):
                    continue  # torch's and Lightning's defaults are theirs
                defaults = _python_defaults(get_object(target))
                for key in set(defaults) & set(node):
                    checked += 1
                    value = OmegaConf.to_container(node, resolve=False)[key]
                    default = defaults[key]
                    if (list(default) if isinstance(default, tuple) else default) != value:
                        drift.append(
                            f"{where}.{key}: {target} defaults to {default!r}, YAML {value!r}"
                        )
    assert checked > 50  # the walk reached the models, networks, data and callbacks
    assert drift == [], "\n".join(drift)
