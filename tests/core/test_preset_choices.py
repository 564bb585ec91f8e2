"""Weighted choices as a value of any number parameter of a preset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from studio.core.io.presets import load_preset, parse_preset, save_preset
from studio.core.model.errors import InputError
from studio.core.model.spec import Choices, draw, draw_int


def test_choices_follow_their_weights() -> None:
    value = Choices(values=(0.25, 0.5, 0.75), weights=(1.0, 0.0, 3.0))
    rng = np.random.default_rng(1)
    picks = np.array([draw(rng, value) for _ in range(4000)])
    assert set(np.unique(picks)) == {0.25, 0.75}
    assert np.mean(picks == 0.75) == pytest.approx(0.75, abs=0.03)
    assert draw_int(np.random.default_rng(0), Choices(values=(3.0, 3.0))) == 3


def test_choices_consume_exactly_one_number() -> None:
    a, b = np.random.default_rng(5), np.random.default_rng(5)
    draw(a, Choices(values=(1.0, 2.0, 3.0)))
    b.random()
    assert a.random() == b.random()


def test_choices_in_a_preset_round_trip_and_are_checked(tmp_path: Path) -> None:
    preset = parse_preset("scale:\n  area_ratio: {values: [0.3, 0.6], weights: [1, 3]}\n")
    assert preset.scale.area_ratio == Choices(values=(0.3, 0.6), weights=(1.0, 3.0))
    save_preset(preset, tmp_path / "p.yaml")
    assert load_preset(tmp_path / "p.yaml") == preset
    bad = {
        "scale:\n  area_ratio: {values: [0.3, 0.6], weights: [1]}\n": (
            "scale.area_ratio: weights has 1 entries, values has 2"
        ),
        "blend:\n  opacity: {values: [0.5, 1.5]}\n": "blend.opacity: must lie in [0.0, 1.0]",
        "scale:\n  area_ratio: {values: [0.3], weights: [0]}\n": "must not all be 0",
        "scale:\n  area_ratio: {values: [0.3], wieghts: [1]}\n": "area_ratio.wieghts: unknown key",
    }
    for text, expected in bad.items():
        with pytest.raises(InputError) as info:
            parse_preset(text)
        assert expected in info.value.reason and "(and" not in info.value.reason
