"""The occlusion engine. Never imports Qt.

``sample`` draws :class:`RenderParams` from an :class:`EngineSpec` with a given generator;
``render`` turns a face, an occluder and params into an image with exact labels.
"""

from studio.core.cache import RenderCache
from studio.core.errors import InputError, PlacementError, RenderError, StudioError
from studio.core.inputs import Face, Occluder, Texture
from studio.core.params import RenderParams
from studio.core.render import Result, render
from studio.core.sample import sample
from studio.core.spec import EngineSpec

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
    "render",
    "sample",
]
