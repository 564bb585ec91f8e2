"""One bounded cache for everything the engine and its clients keep: decoded inputs, device
uploads, colour transfers, augmentations, shapes and reduced copies (:class:`RenderCache`),
and the studio's other bounded caches (:class:`BoundedCache`, which it extends).

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


class BoundedCache:
    """An LRU cache bounded by the size of what it holds (at least one entry is always kept):
    the one bounded cache of the package, for arrays (sized by :func:`nbytes`) and, with
    ``size_of`` or an explicit size, anything else (the studio's thumbnails).

    ``errors`` lists exception types that are cached like values (an unreadable input stays
    unreadable: it is not decoded again) and raised again on every ``get``. A copy sent to
    another process starts empty.
    """

    def __init__(
        self,
        max_bytes: int = DEFAULT_BYTES,
        errors: tuple[type[BaseException], ...] = (),
        size_of: Callable[[Any], int] = nbytes,
    ) -> None:
        self.max_bytes = max_bytes
        self.errors = errors
        self.size_of = size_of
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()

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
            self.put(key, value)
        if self.errors and isinstance(value, self.errors):
            raise value
        return value

    def put(self, key: Hashable, value: Any, size: int | None = None) -> None:
        """Hold ``value`` under ``key`` (replacing what was there), counted as ``size`` bytes
        (``size_of(value)`` when None); the least recently used entries make room."""
        old = self._items.pop(key, None)
        if old is not None:
            self.bytes -= old[1]
        held = ENTRY_OVERHEAD + (self.size_of(value) if size is None else size)
        self._items[key] = (value, held)
        self.bytes += held
        while self.bytes > self.max_bytes and len(self._items) > 1:
            _, (_, dropped) = self._items.popitem(last=False)
            self.bytes -= dropped

    def find(self, key: Hashable) -> Any | None:
        """The value held under ``key`` (now the most recently used), or None."""
        held = self._items.get(key)
        if held is None:
            return None
        self._items.move_to_end(key)
        return held[0]

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    @property
    def entries(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()
        self.bytes = 0

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)  # a copy for another process starts empty
        state["_items"] = OrderedDict()
        state["bytes"] = 0
        return state


class RenderCache(BoundedCache):
    """The engine's cache (see the module docstring), with a small cache of its own for the
    values that only the next few calls ask for again (:meth:`recent`)."""

    _recent: BoundedCache | None = None  # see recent(); made when first used

    def recent(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """Like :meth:`get`, for values that only the next few calls ask for again (a sample's
        placement, made while sampling and again by its render): held in a small cache of
        their own (:data:`RECENT_BYTES`), so a drag's stream of placements never evicts the
        inputs and colour transfers."""
        if self._recent is None:
            self._recent = BoundedCache(RECENT_BYTES)
        return self._recent.get(key, make)

    def clear(self) -> None:
        super().clear()
        self._recent = None

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_recent", None)
        return state


class _NoCache(RenderCache):
    """Makes every value anew (a render without a cache)."""

    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        return make()

    def recent(self, key: Hashable, make: Callable[[], Any]) -> Any:
        return make()

    def put(self, key: Hashable, value: Any, size: int | None = None) -> None:
        pass


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
