"""The occlusion engine. Never imports Qt.

``sample`` draws :class:`RenderParams` from an :class:`EngineSpec` with a given generator;
``render`` turns a face, an occluder and params into an image with exact labels.

Its parts, each allowed to import only those below it: ``export`` (batch jobs), ``jobs`` (the job
protocol), ``engine`` (sample -> resolve -> render), ``sources`` (the input layer), ``io`` (files),
``ops`` (array ops and backends), ``model`` (presets, params, errors). Old module paths
(``studio.core.render`` ...) still import, with a warning, for one release (:mod:`.moved`).
"""

from studio.core import moved
from studio.core.engine.cache import RenderCache
from studio.core.engine.render import Result, render
from studio.core.engine.sample import sample
from studio.core.io.presets import load_preset, save_preset
from studio.core.model.errors import InputError, PlacementError, RenderError, StudioError
from studio.core.model.inputs import Face, Occluder, Texture
from studio.core.model.params import RenderParams
from studio.core.model.spec import EngineSpec

__all__ = [
    "EngineSpec",
    "Face",
    "InputError",
    "Occluder",
    "PlacementError",
    "RenderCache",
    "RenderError",
    "RenderParams",
    "Result",
    "StudioError",
    "Texture",
    "load_preset",
    "render",
    "sample",
    "save_preset",
]

moved.install()
