"""One bounded cache for everything the engine and its clients keep: decoded inputs, device
uploads, colour transfers, augmentations, shapes and reduced copies.

It is an LRU bounded by the bytes of the arrays it holds; keys are tuples (what made the value:
content keys, parameters, backend), never strings built from them. A cache changes speed,
never bytes: every value is a pure function of its key.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import fields, is_dataclass
from typing import Any

import numpy as np

from studio.core.ops.backend import Array, Backend

DEFAULT_BYTES = 256 * 2**20
#: bound of :meth:`RenderCache.recent`: a few placements of a 1024 px face
RECENT_BYTES = 8 * 2**20
#: what one entry counts besides its arrays (keys, small objects)
ENTRY_OVERHEAD = 256


def nbytes(value: Any) -> int:
    """Memory of the arrays in ``value``: an array, a tuple or list of them, a dataclass or an
    object with array fields (Face, Occluder, Texture); device arrays count too."""
    if isinstance(value, np.ndarray) or hasattr(value, "__cuda_array_interface__"):
        return int(value.nbytes)
    if isinstance(value, (tuple, list)):
        return sum(nbytes(v) for v in value)
    if is_dataclass(value) and not isinstance(value, type):
        return sum(nbytes(getattr(value, f.name)) for f in fields(value))
    return 0


class RenderCache:
    """An LRU cache bounded by bytes (at least one entry is always kept).

    ``errors`` lists exception types that are cached like values (an unreadable input stays
    unreadable: it is not decoded again) and raised again on every ``get``.
    """

    def __init__(
        self, max_bytes: int = DEFAULT_BYTES, errors: tuple[type[BaseException], ...] = ()
    ) -> None:
        self.max_bytes = max_bytes
        self.errors = errors
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._recent: RenderCache | None = None  # see recent(); made when first used

    def recent(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """Like :meth:`get`, for values that only the next few calls ask for again (a sample's
        placement, made while sampling and again by its render): held in a small cache of
        their own (:data:`RECENT_BYTES`), so a drag's stream of placements never evicts the
        inputs and colour transfers."""
        if self._recent is None:
            self._recent = RenderCache(RECENT_BYTES)
        return self._recent.get(key, make)

    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """The value of ``key``, made by ``make()`` when not held."""
        if key in self._items:
            self._items.move_to_end(key)
            self.hits += 1
            value = self._items[key][0]
        else:
            self.misses += 1
            try:
                value = make()
            except self.errors as err:
                value = err
            size = ENTRY_OVERHEAD + nbytes(value)
            self._items[key] = (value, size)
            self.bytes += size
            while self.bytes > self.max_bytes and len(self._items) > 1:
                _, (_, dropped) = self._items.popitem(last=False)
                self.bytes -= dropped
        if self.errors and isinstance(value, self.errors):
            raise value
        return value

    @property
    def entries(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()
        self.bytes = 0
        self._recent = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)  # a copy for another process starts empty
        state["_items"] = OrderedDict()
        state["bytes"] = 0
        state["_recent"] = None
        return state


class _NoCache(RenderCache):
    """Makes every value anew (a render without a cache)."""

    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        return make()

    def recent(self, key: Hashable, make: Callable[[], Any]) -> Any:
        return make()


def no_cache() -> RenderCache:
    return _NoCache(0)


def on_device(be: Backend, cache: RenderCache, key: Hashable, *arrays: Any) -> tuple:
    """``arrays`` uploaded to ``be`` (cached by ``key`` on devices; as they are on the CPU)."""
    if be.on_host:
        return arrays

    def upload() -> tuple:
        return tuple(None if a is None else be.asarray(a) for a in arrays)

    return cache.get(("device", be.name, key), upload)


def preload_face(
    cache: RenderCache, be: Backend, face: Any, image: Array, mask: Array, labels: Array | None
) -> None:
    """Give ``cache`` the device copies of ``face`` (e.g. CuPy views of CUDA tensors through
    DLPack), so that rendering ``face`` on ``be`` with this cache does not upload it again."""
    cache.get(("device", be.name, face.key), lambda: (image, mask, labels))
