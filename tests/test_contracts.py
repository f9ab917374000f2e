"""The import contracts in pyproject.toml name every part of parental that isn't kit."""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import parental

PYPROJECT = Path(__file__).parents[1] / "pyproject.toml"


def test_contracts_forbid_every_parental_module_except_kit() -> None:
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    contracts = {c["name"]: c for c in config["tool"]["importlinter"]["contracts"]}
    modules = {
        f"parental.{m.name}" for m in pkgutil.iter_modules(parental.__path__) if m.name != "kit"
    }
    for name in (
        "filters and telemetry use only parental.kit from parental",
        "kit knows no domain",
    ):
        forbidden = set(contracts[name]["forbidden_modules"])
        assert modules - forbidden == set(), f"add to the contract {name!r}"
    assert {"filters", "telemetry"} <= set(contracts["kit knows no domain"]["forbidden_modules"])
