"""The live preview pipeline: render requests, a worker thread, stale-frame dropping.

Every edit produces a :class:`PreviewRequest` with a rising generation number. Requests go
into a one-slot mailbox: a newer request replaces one the worker has not started, so a burst
of drag events coalesces into "render the newest" (latest wins, no queue builds up). The
worker renders with the engine on a thread, reusing one :class:`RenderCache` (colour
transfer, augmentation and shapes are computed once per occluder, not per drag step). A frame
older than the one on screen is dropped (optionally, any frame older than the newest
request: ``drop_superseded``). The UI thread never renders.

Zoomed in past the preview's resolution, the canvas asks for a *region* request: the same
params rendered at full resolution, of which only the visible region comes back. It goes
through the same mailbox (any edit replaces it) and its frame is shown only when no newer
request exists, so a region never shows a stale occluder.

``PreviewWorker(synchronous=True)`` renders nothing until :meth:`PreviewWorker.run_pending`
is called, so tests can drive it step by step.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace

import numpy as np
from PySide6.QtCore import QObject, Signal

from studio.core.engine.cache import BoundedCache, RenderCache
from studio.core.engine.render import Result, render
from studio.core.model.errors import StudioError
from studio.core.model.inputs import Face, Occluder, Texture
from studio.core.model.params import RenderParams
from studio.gui.parameters import raw_params

PREVIEW_MAX_SIDE = 512
PREVIEW_FACES_BYTES = 32 * 2**20  #: faces kept at preview resolution (about 20 of 512 px)


@dataclass(frozen=True)
class PreviewRequest:
    generation: int
    face: Face  #: at preview resolution
    occluder: Occluder | Texture | None
    params: RenderParams
    backend: str = "cpu"
    #: (x0, y0, x1, y1) in the pixels of ``face`` (then at full resolution): only this region
    #: of the render comes back
    region: tuple[int, int, int, int] | None = None


@dataclass
class PreviewFrame:
    """A rendered preview (or the reason it could not be rendered)."""

    generation: int
    request: PreviewRequest
    result: Result | None
    error: str | None
    render_ms: float
    #: the occluder's four corners in preview pixels (for the canvas handles)
    corners: list[tuple[float, float]] | None = None
    finished: float = 0.0
    #: the face image under ``result`` (the region of it, for a region request)
    before: np.ndarray | None = None


def preview_factor(face: Face, max_side: int = PREVIEW_MAX_SIDE) -> float:
    return min(1.0, max_side / max(face.size))


def render_request(request: PreviewRequest, cache: RenderCache) -> PreviewFrame:
    """Render one request (engine call; runs on the worker thread)."""
    t0 = time.perf_counter()
    before = request.face.image
    try:
        result = render(request.face, request.occluder, request.params, request.backend, cache)
        if request.region is None:
            corners = result.placement.corners() if result.placement else []
        else:
            x0, y0, x1, y1 = request.region
            result, corners = crop_result(result, request.region), None
            before = np.ascontiguousarray(before[y0:y1, x0:x1])
        error = None
    except StudioError as err:
        result, corners, error = None, None, err.reason
    ms = (time.perf_counter() - t0) * 1000.0
    return PreviewFrame(request.generation, request, result, error, ms, corners, before=before)


def crop_result(result: Result, region: tuple[int, int, int, int]) -> Result:
    """The region (x0, y0, x1, y1) of a render (copies: the full arrays are not kept)."""
    x0, y0, x1, y1 = region

    def cut(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(a[y0:y1, x0:x1])

    return replace(
        result,
        image=cut(result.image),
        face_mask=cut(result.face_mask),
        occlusion_mask=cut(result.occlusion_mask),
        alpha=cut(result.alpha),
        labels=None if result.labels is None else cut(result.labels),
    )


class PreviewWorker(QObject):
    """Renders the newest request on a background thread (or on demand when synchronous)."""

    frameReady = Signal(object)

    def __init__(self, synchronous: bool = False, cache: RenderCache | None = None) -> None:
        super().__init__()
        self.synchronous = synchronous
        self.cache = cache or RenderCache(256 * 2**20)
        self.rendered: list[int] = []  #: generations rendered, in order (for tests and stats)
        self._slot: PreviewRequest | None = None
        self._rendering = False
        self._cond = threading.Condition()
        self._stop = False
        self._thread: threading.Thread | None = None
        if not synchronous:
            self._thread = threading.Thread(target=self._loop, name="preview", daemon=True)
            self._thread.start()

    def submit(self, request: PreviewRequest) -> None:
        """Put ``request`` in the mailbox, replacing any request not yet started."""
        with self._cond:
            self._slot = request
            self._cond.notify()

    @property
    def pending(self) -> PreviewRequest | None:
        return self._slot

    def busy(self) -> bool:
        """Whether a request waits or renders (lower-priority work waits meanwhile). A
        synchronous worker's waiting request counts only while it renders."""
        return self._rendering or (self._thread is not None and self._slot is not None)

    def run_pending(self) -> PreviewFrame | None:
        """Synchronous mode: render the newest pending request now and emit its frame."""
        with self._cond:
            request, self._slot = self._slot, None
        if request is None:
            return None
        return self._render(request)

    def _render(self, request: PreviewRequest) -> PreviewFrame:
        self._rendering = True
        try:
            frame = render_request(request, self.cache)
        finally:
            self._rendering = False
        frame.finished = time.perf_counter()
        self.rendered.append(request.generation)
        self.frameReady.emit(frame)
        return frame

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._slot is None and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                request, self._slot = self._slot, None
                self._rendering = True
            self._render(request)

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=5)


class PreviewController(QObject):
    """Turns (face, occluder, params) into requests and shows only the newest frames."""

    frameShown = Signal(object)
    regionShown = Signal(object)  #: a full-resolution region frame of the newest request
    requested = Signal(int)

    def __init__(
        self, synchronous: bool = False, backend: str = "cpu", drop_superseded: bool = False
    ) -> None:
        super().__init__()
        self.backend = backend
        self.drop_superseded = drop_superseded
        self.worker = PreviewWorker(synchronous=synchronous)
        self.worker.frameReady.connect(self.accept_frame)
        self.generation = 0
        self.preview_generation = 0  #: of the newest request that is not a region
        self.dropped = 0
        self.shown = 0
        self.last_frame: PreviewFrame | None = None
        self.raw = False  #: render without harmonisation (the "Raw paste" view)
        self.region_frame: PreviewFrame | None = None
        self._preview_faces = BoundedCache(PREVIEW_FACES_BYTES)
        self._faces_lock = threading.Lock()

    def preview_face(self, face: Face) -> Face:
        """``face`` at preview resolution (cached; the bbox stays exact). Thread-safe: the
        item loader makes it on its worker, so the UI thread finds it ready."""
        factor = preview_factor(face)
        key = (face.key, factor)
        with self._faces_lock:
            found = self._preview_faces.find(key)
        if found is not None:
            return found
        made = face if factor >= 1.0 else face.resized(factor)  # not under the lock
        with self._faces_lock:
            return self._preview_faces.get(key, lambda: made)  # the first one made wins

    def request(self, face: Face, occluder: Occluder | Texture | None, params: RenderParams) -> int:
        """Ask for a frame; returns its generation."""
        if self.raw:
            params = raw_params(params)
        self.generation += 1
        self.preview_generation = self.generation
        req = PreviewRequest(
            self.generation, self.preview_face(face), occluder, params, self.backend
        )
        self.worker.submit(req)
        self.requested.emit(self.generation)
        return self.generation

    def up_to_date(self) -> bool:
        """Whether the frame on screen is of the newest edit and no edit waits."""
        frame, waiting = self.last_frame, self.worker.pending
        return (
            frame is not None
            and frame.generation == self.preview_generation
            and (waiting is None or waiting.region is not None)
        )

    def request_region(self, face: Face, region: tuple[int, int, int, int]) -> int | None:
        """Render the frame on screen again at ``face``'s full resolution, keeping only
        ``region`` (x0, y0, x1, y1 in ``face``'s pixels): same occluder, same params. Only
        when the preview is up to date (a region never displaces an edit); returns its
        generation, or None."""
        if not self.up_to_date():
            return None
        shown = self.last_frame.request
        self.generation += 1
        req = PreviewRequest(
            self.generation, face, shown.occluder, shown.params, self.backend, region=region
        )
        self.worker.submit(req)
        return self.generation

    def accept_frame(self, frame: PreviewFrame) -> None:
        """Show ``frame`` unless it is stale.

        With ``drop_superseded`` (the default is False) a frame older than the newest request
        is dropped. Otherwise a frame is dropped only when a newer one is already shown: during
        a continuous drag whose events come faster than renders finish, every frame would be
        superseded and the canvas would freeze until the drag stops; showing the newest frame
        that exists keeps it moving, and the worker always renders the newest request.
        """
        if frame.request.region is not None:
            if frame.generation != self.generation:  # an edit came after it: stale
                self.dropped += 1
                return
            self.region_frame = frame
            self.regionShown.emit(frame)
            return
        newest_shown = self.last_frame.generation if self.last_frame is not None else 0
        superseded = self.drop_superseded and frame.generation < self.generation
        if frame.generation <= newest_shown or superseded:
            self.dropped += 1
            return
        self.shown += 1
        self.last_frame = frame
        self.frameShown.emit(frame)

    def shutdown(self) -> None:
        self.worker.stop()
