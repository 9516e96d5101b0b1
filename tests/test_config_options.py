"""Every option of every config group composes through genlab's Hydra composition, every
object a config names instantiates, and every network, likelihood and optimizer option builds
inside the models that use its group and does its job on a batch. The groups and options are
found in conf/, so a new YAML file is tested without editing this file."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
import pytorch_lightning as pl
import torch
import yaml
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from hydra.utils import get_class, get_object, instantiate
from omegaconf import DictConfig, ListConfig, OmegaConf

from genlab.compare.stats import METRICS
from genlab.config import check_train_config
from genlab.models import GenerativeModule
from genlab.reproduce.baseline import Baseline
from genlab.training.assembly import instantiate_group
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
    passes genlab's own checks, and an experiment records its name and builds its model.
    Options that need a GPU (trainer=gpu, ddp, ...) or a network (logger=wandb online,
    downloads) are only composed here: instantiating them needs what these machines lack. The
    tests below instantiate the rest."""
    overrides = [*case.base, f"{case.key}={case.option}"]
    if case.app == "train":
        cfg = compose_train(overrides, tmp_path)
        check_train_config(cfg)
        choices = HydraConfig.get().runtime.choices
        if case.group == "experiment":
            assert cfg.experiment_name == case.option
            assert isinstance(instantiate(cfg.model), GenerativeModule)
    else:
        choices = compose_app(case.app, overrides).hydra.runtime.choices
    assert choices[case.key] == case.option


def test_every_experiment_is_a_case() -> None:
    """Each experiment (sub-folders included) composes and builds in the test above."""
    experiments = {case.option for case in CASES if case.group == "experiment"}
    assert experiments == set(config_options("experiment")) and "quickstart" in experiments


# --- the objects configs name, instantiated ---------------------------------------------------


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
