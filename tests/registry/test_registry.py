"""Discovery of adapters: built-ins plus fake third-party plug-ins (docs/adapters.md, "Registering").

``importlib.metadata.entry_points`` is monkeypatched, as ``harness.registry`` calls it, to offer
entry points from fake distributions; their targets live in ``fake_plugin.py``.
``registry._load`` is cached, so the cache is cleared around every test.
"""

from __future__ import annotations

import importlib.metadata
import textwrap
from dataclasses import dataclass

import pytest

from harness import registry
from harness.api import load_scenario
from harness.cli import main
from harness.errors import AdapterValidationError, ParameterError, RegistryError, ScenarioError
from harness.registry import (
    BUILTIN_ADAPTERS,
    ENTRY_POINT_GROUP,
    available_adapters,
    get_adapter,
    get_adapter_class,
    provenance,
)
from tests.registry import fake_plugin

PLUGIN = "tests.registry.fake_plugin"
CLM5_TARGET = "models.clm5_firstorder:Clm5FirstOrderAdapter"


@dataclass(frozen=True)
class FakeDistribution:
    """What the registry reads of a distribution: ``metadata["Name"]`` and ``version``."""

    name: str
    version: str

    @property
    def metadata(self) -> dict[str, str]:
        return {"Name": self.name}


@dataclass(frozen=True)
class FakeEntryPoint:
    name: str
    value: str
    dist: FakeDistribution | None
    group: str = ENTRY_POINT_GROUP


TOY_DIST = FakeDistribution("soilbench-toy", "1.2.3")
OTHER_DIST = FakeDistribution("soilbench-other", "0.9")


@pytest.fixture(autouse=True)
def fresh_registry():
    registry._load.cache_clear()
    yield
    registry._load.cache_clear()


@pytest.fixture
def offer(monkeypatch):
    """``offer(ep, ...)``: make these the installed entry points (of any group)."""

    def install(*entry_points: FakeEntryPoint) -> None:
        def entry_points_(*, group: str | None = None, **_: object) -> list[FakeEntryPoint]:
            return [ep for ep in entry_points if group is None or ep.group == group]

        monkeypatch.setattr(importlib.metadata, "entry_points", entry_points_)

    return install


@pytest.fixture
def toy(offer):
    offer(FakeEntryPoint("toy", f"{PLUGIN}:ToyAdapter", TOY_DIST))


def test_builtins_without_plugins(offer):
    offer()
    info = available_adapters()["clm5_firstorder"]
    assert (info.target, info.source, info.distribution) == (CLM5_TARGET, "builtin", "soilbench")


def test_plugin_is_listed_with_its_distribution(toy):
    adapters = available_adapters()
    assert set(adapters) == set(BUILTIN_ADAPTERS) | {"toy"}
    info = adapters["toy"]
    assert info.as_dict() == {"name": "toy", "target": f"{PLUGIN}:ToyAdapter", "source": "entry point",
                              "distribution": "soilbench-toy", "version": "1.2.3"}


def test_get_adapter_loads_and_builds_the_plugin(toy):
    adapter = get_adapter("toy", label="fancy")
    assert type(adapter) is fake_plugin.ToyAdapter
    assert adapter.get_options() == {"label": "fancy"}
    result = adapter.evaluate(c_input=[100.0, 200.0])
    assert result.output("soc").tolist() == [1000.0, 2000.0]  # X* = c_input tau, tau = 10 yr
    with pytest.raises(ParameterError, match="unknown toy option 'lable'; did you mean 'label'?"):
        get_adapter("toy", lable="x")


def test_provenance_records_the_plugin_origin(toy):
    record = provenance("toy", get_adapter("toy"))
    assert record["target"] == f"{PLUGIN}:ToyAdapter"
    assert (record["source"], record["distribution"], record["version"]) == ("entry point", "soilbench-toy", "1.2.3")
    assert record["options"] == {"label": "plain"}
    assert record["reference"] == fake_plugin.ToyAdapter.reference


def test_models_command_lists_the_plugin(toy, capsys):
    assert main(["models"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("toy "))
    assert "entry point" in row and "soilbench-toy 1.2.3" in row


def test_plugin_without_distribution_is_unknown(offer):
    offer(FakeEntryPoint("toy", f"{PLUGIN}:ToyAdapter", None))
    info = available_adapters()["toy"]
    assert (info.distribution, info.version) == ("unknown", "unknown")


def test_name_offered_by_a_plugin_and_a_builtin_names_both(offer):
    offer(FakeEntryPoint("clm5_firstorder", f"{PLUGIN}:ToyAdapter", TOY_DIST))
    message = (f"model name 'clm5_firstorder' is offered twice: by soilbench ({CLM5_TARGET}) and by "
               f"soilbench-toy ({PLUGIN}:ToyAdapter); uninstall one of them")
    with pytest.raises(RegistryError) as info:
        available_adapters()
    assert str(info.value) == message
    with pytest.raises(LookupError):  # never first-wins, also when asking for the name
        get_adapter("clm5_firstorder")


def test_name_offered_by_two_plugins_names_both(offer):
    offer(FakeEntryPoint("toy", f"{PLUGIN}:ToyAdapter", TOY_DIST),
          FakeEntryPoint("toy", "soilbench_other:OtherToy", OTHER_DIST))
    with pytest.raises(RegistryError, match=r"'toy' is offered twice: by soilbench-toy \(.*:ToyAdapter\) "
                                            r"and by soilbench-other \(soilbench_other:OtherToy\)"):
        available_adapters()


def test_same_target_offered_twice_is_not_a_conflict(offer):
    offer(FakeEntryPoint("toy", f"{PLUGIN}:ToyAdapter", TOY_DIST),
          FakeEntryPoint("toy", f"{PLUGIN}:ToyAdapter", TOY_DIST))
    assert available_adapters()["toy"].target == f"{PLUGIN}:ToyAdapter"


@pytest.mark.parametrize("target, cause", [
    ("soilbench_toy_missing:ToyAdapter", ModuleNotFoundError),
    (f"{PLUGIN}:NoSuchAdapter", AttributeError),
])
def test_import_failure_names_entry_point_and_distribution(offer, target, cause):
    offer(FakeEntryPoint("toy", target, TOY_DIST))
    assert "toy" in available_adapters()  # listing does not import
    with pytest.raises(RegistryError) as info:
        get_adapter_class("toy")
    assert str(info.value).startswith(
        f"cannot load model 'toy' from {target} (entry point, distribution soilbench-toy): ")
    assert isinstance(info.value.__cause__, cause)  # chained `from exc`


def test_broken_metadata_raises_adapter_validation_error(offer):
    offer(FakeEntryPoint("broken", f"{PLUGIN}:BrokenAdapter", TOY_DIST))
    with pytest.raises(AdapterValidationError) as info:
        get_adapter("broken")
    message = str(info.value)
    assert message.startswith(
        f"model 'broken' ({PLUGIN}:BrokenAdapter, soilbench-toy) breaks the adapter contract:\n  ")
    assert "parameter 'tau' default 500.0 is outside (0, 100]" in message
    assert "pool 'som' has kind 'soup'" in message
    assert isinstance(info.value, TypeError)


def test_not_an_adapter_raises_adapter_validation_error(offer):
    offer(FakeEntryPoint("odd", f"{PLUGIN}:NotAnAdapter", TOY_DIST))
    with pytest.raises(AdapterValidationError,
                       match=rf"^{PLUGIN}:NotAnAdapter \(soilbench-toy\) is not a BaseAdapter subclass$"):
        get_adapter_class("odd")


def test_entry_point_named_otherwise_than_its_adapter_is_refused(offer, capsys):
    """ToyAdapter.name is 'toy': registered as 'toy_model' it would run under two names."""
    offer(FakeEntryPoint("toy_model", f"{PLUGIN}:ToyAdapter", TOY_DIST))
    assert "toy_model" in available_adapters()  # listing does not import: the check runs at load
    message = (
        f"model 'toy_model' ({PLUGIN}:ToyAdapter): entry point 'toy_model' of distribution soilbench-toy loads "
        "an adapter named 'toy'; the registry name and the adapter's `name` attribute must be the same. Fix: "
        "rename the entry point to 'toy' in [project.entry-points.\"soilbench.models\"] of soilbench-toy's "
        "pyproject.toml (then reinstall it), or set name = 'toy_model' on ToyAdapter"
    )
    for load in (get_adapter_class, get_adapter):
        with pytest.raises(AdapterValidationError) as info:
            load("toy_model")
        assert str(info.value) == message
    assert main(["models"]) == 0  # the listing shows why the model cannot be loaded
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("toy_model "))
    assert "(cannot load: model 'toy_model'" in row and "entry point" in row


def test_scenario_naming_a_misnamed_plugin_reports_it(offer, tmp_path):
    offer(FakeEntryPoint("toy_model", f"{PLUGIN}:ToyAdapter", TOY_DIST))
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.format(first="toy_model"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    (issue,) = info.value.issues
    assert issue.message.startswith("model 'toy_model' cannot be loaded: model 'toy_model'")
    assert "rename the entry point to 'toy'" in issue.message


def test_builtin_listed_under_another_name_is_refused(monkeypatch):
    monkeypatch.setitem(BUILTIN_ADAPTERS, "toy_builtin", f"{PLUGIN}:ToyAdapter")
    with pytest.raises(AdapterValidationError, match=r"BUILTIN_ADAPTERS in harness/registry.py lists as "
                                                     r"'toy_builtin' an adapter named 'toy'.*Fix: use the key "
                                                     r"'toy' there, or set name = 'toy_builtin' on ToyAdapter$"):
        get_adapter_class("toy_builtin")


def test_every_builtin_is_registered_under_its_own_name():
    for name in BUILTIN_ADAPTERS:
        assert get_adapter_class(name).name == name


def test_unknown_name_did_you_mean_and_known_names(toy):
    with pytest.raises(RegistryError) as info:
        get_adapter("toyy")
    message = str(info.value)
    assert message.startswith("unknown model 'toyy'; did you mean 'toy'?")
    assert message.lower().endswith("known: " + ", ".join(sorted(set(BUILTIN_ADAPTERS) | {"toy"})))


def test_unknown_name_without_close_match_lists_known_names(toy):
    known = ", ".join(sorted(set(BUILTIN_ADAPTERS) | {"toy"}))
    with pytest.raises(RegistryError, match=f"(?i)unknown model 'rothc'.*known: {known}$"):
        get_adapter("rothc")


def test_cli_describe_of_a_broken_plugin_exit_2(offer, capsys):
    offer(FakeEntryPoint("broken", f"{PLUGIN}:BrokenAdapter", TOY_DIST))
    assert main(["describe", "broken"]) == 2
    assert capsys.readouterr().err.startswith("error: model 'broken'")


# -- scenarios see plug-ins ----------------------------------------------------------------------------
SCENARIO = textwrap.dedent("""\
    schema_version: 1
    name: plug
    kind: sobol
    seed: 1
    models: [{first}, clm5_firstorder]
    drivers:
      ph: {{range: [5.0, 7.0]}}
    """)


def test_scenario_can_use_a_plugin(toy, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.format(first="toy"))
    scenario = load_scenario(path)
    assert [m.model for m in scenario.models] == ["toy", "clm5_firstorder"]


def test_misspelt_plugin_does_not_cascade(toy, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.format(first="toyy"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert [i.message for i in info.value.issues] == ["unknown model 'toyy'"]
