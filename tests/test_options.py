"""One declaration of each training option: ModelSpec, the CLI and the settings all follow it."""

from __future__ import annotations

import dataclasses

import pytest

from kpgui.core.model.options import BY_NAME, OPTIONS
from kpgui.core.model.spec import ModelSpec


def test_model_spec_fields_are_exactly_the_declared_options_with_their_defaults():
    fields = {f.name: f.default for f in dataclasses.fields(ModelSpec) if f.name != "extra"}
    assert list(fields) == [o.name for o in OPTIONS]
    for opt in OPTIONS:
        assert fields[opt.name] == opt.default, opt.name
        assert opt.check(opt.default) is None, opt.name


def test_limits_come_from_the_declaration():
    assert (
        "learning rate must be above 0 and at most 10" in ModelSpec(learning_rate=0).errors()["learning_rate"]
    )
    assert ModelSpec(epochs=1000).errors() == {}
    assert "epochs must be from 1 to 1,000" in ModelSpec(epochs=1001).errors()["epochs"]
    assert "dropout" in ModelSpec(dropout=1.0).errors()
    assert ModelSpec(patience=2, validation_split=0).errors()["patience"].startswith("early")


def test_parse_and_format_round_trip():
    for opt in OPTIONS:
        if opt.default is not None:
            assert (
                opt.parse(opt.format(opt.default) if opt.kind is not bool else "yes" if opt.default else "no")
                == opt.default
            ), opt.name
    assert BY_NAME["hidden"].parse("512; 256") == (512, 256)
    assert BY_NAME["learning_rate"].parse("1e-3") == 0.001
    with pytest.raises(ValueError, match="number"):
        BY_NAME["learning_rate"].parse("fast")


def test_from_dict_is_forgiving_or_strict():
    data = {"hidden": [64], "epochs": "lots", "dropout": 0.2, "unknown": 1}
    spec = ModelSpec.from_dict(data)
    assert spec.hidden == (64,) and spec.epochs == 20 and spec.dropout == 0.2
    with pytest.raises(ValueError, match="epochs"):
        ModelSpec.from_dict(data, strict=True)


def test_run_names_say_what_differs():
    from types import SimpleNamespace

    from kpgui.core.display.runnames import run_labels, settings_text

    runs = [
        SimpleNamespace(
            id=i,
            name=None,
            kind="train",
            test_accuracy=acc,
            spec=ModelSpec(optimizer="sgd", learning_rate=lr),
        )
        for i, (lr, acc) in enumerate([(1e-6, 0.1), (0.01, 0.972), (1.0, 0.95)])
    ]
    labels = run_labels(runs)
    assert labels[1] == "lr 0.01 · 97.2 %" and labels[0] == "lr 1e-06 · 10.0 %"
    assert settings_text(ModelSpec()) == "the classic recipe"
    assert settings_text(ModelSpec(optimizer="adam", hidden=(32,))) == "layers 32, adam"
