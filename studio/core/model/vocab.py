"""The words of the engine, declared once: every model, command-line choice and studio list
derives from these (``typing.get_args`` gives the values)."""

from __future__ import annotations

from typing import Literal, get_args

Mode = Literal["natocc", "randocc"]
ColorMethod = Literal["none", "sot", "reinhard", "lighting"]
ColorTarget = Literal["face", "ring"]
UpSide = Literal["up", "down", "left", "right"]  #: which side of a cut-out is its top
OccluderKind = Literal["hand", "object", "other"]
Role = Literal["faces", "occluders", "textures"]  #: what a source gives
ImageFormat = Literal["jpg", "png"]
OutputLayout = Literal["studio", "seed"]  #: output folder names (ours, or the reference's)
BackendName = Literal["auto", "cpu", "cuda"]
MaskMax = Literal[1, 255]  #: the value of "on" in written masks (0/1 class ids, or 0/255)
EngineName = Literal["local", "ray"]
TrainTarget = Literal["face", "occlusion", "classes"]  #: what a trained model predicts


def values(words: object) -> tuple[str, ...]:
    """The values of one of the Literal types above, in order."""
    return tuple(get_args(words))


#: mode -> the source role it draws from besides faces, and whether a sample needs one:
#: NatOcc pastes occluders; RandOcc fills its shapes with textures (without: flat colours).
_POOLS: dict[str, tuple[Role, bool]] = {
    "natocc": ("occluders", True),
    "randocc": ("textures", False),
}
#: mode -> the source role of what it draws besides faces
POOL_ROLE: dict[str, Role] = {mode: role for mode, (role, _) in _POOLS.items()}


def pool_role(mode: str) -> Role:
    """What ``mode`` draws besides faces: ``occluders`` (natocc) or ``textures`` (randocc)."""
    return _POOLS[mode][0]


def pool_required(mode: str) -> bool:
    """True when ``mode`` cannot make a sample without its pool (natocc: an occluder)."""
    return _POOLS[mode][1]
