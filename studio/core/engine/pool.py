"""Drawing occluders and textures: one pool type for every client (export, grid, torch, demo).

An :class:`ItemPool` holds the ids of a source (or a list of loaded items) and draws one per
call from the generator it is given. An item that cannot be loaded is left out of later draws
in this process; since an unusable item is unusable wherever it is drawn, the items a sample
gets depend only on its generator, never on which items this process met before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from studio.core.engine.cache import RenderCache
from studio.core.model.errors import InputError

MAX_DRAWS = 100  #: draws tried before a pool of mostly unusable items gives up
DEFAULT_CACHE_BYTES = 192 * 2**20


class ItemPool:
    """Occluders (NatOcc) or textures (RandOcc) to draw from.

    Parameters
    ----------
    items : a source (``ids()`` / ``load(id)``), or a sequence of loaded items (their ``id``s).
    ids : the source's ids as listed before (an export plan's), instead of listing them again.
    cache_bytes : bound of the decoded items kept (a source only).
    """

    def __init__(
        self,
        items: Any,
        ids: Sequence[str] | None = None,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
    ) -> None:
        self.source: Any = None
        self._listed: dict[str, Any] = {}
        if isinstance(items, Sequence) and not isinstance(items, str):
            self._listed = {str(getattr(it, "id", i)): it for i, it in enumerate(items)}
            self.ids: tuple[str, ...] = tuple(self._listed)
        elif hasattr(items, "ids") and hasattr(items, "load"):
            self.source = items
            self.ids = tuple(items.ids() if ids is None else ids)
        else:
            raise TypeError("a pool takes a source (ids/load) or a list of items")
        self.unusable: set[str] = set()
        self._cache = RenderCache(cache_bytes, errors=(InputError,))

    def __len__(self) -> int:
        return len(self.ids)

    def load(self, item_id: str) -> Any:
        """The item ``item_id`` (decoded once, then cached)."""
        if self.source is None:
            return self._listed[item_id]
        return self._cache.get(("item", item_id), lambda: self.source.load(item_id))

    def draw(self, rng: np.random.Generator) -> tuple[str, Any, list[InputError]]:
        """One item, chosen uniformly with ``rng`` among the usable ones.

        Returns the id, the item and the load errors of unusable items met on the way (each
        reported once per process). Every try consumes one integer of ``rng``.

        Raises
        ------
        InputError
            when the pool is empty, or no usable item was met in :data:`MAX_DRAWS` tries.
        """
        if not self.ids:
            raise InputError("nothing to draw from: the source has no items")
        met: list[InputError] = []
        for _ in range(MAX_DRAWS):
            item_id = self.ids[int(rng.integers(len(self.ids)))]
            if item_id in self.unusable:
                continue
            try:
                return item_id, self.load(item_id), met
            except InputError as err:
                self.unusable.add(item_id)
                met.append(err)
                if len(self.unusable) == len(self.ids):
                    break
        raise _exhausted(self, met)


def _exhausted(pool: ItemPool, met: list[InputError]) -> InputError:
    what = f"{len(pool.unusable)} of {len(pool.ids)} items are unusable"
    err = InputError(f"no usable item drawn in {MAX_DRAWS} tries ({what})")
    err.met = met  # type: ignore[attr-defined]
    return err
