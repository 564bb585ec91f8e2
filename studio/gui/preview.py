"""The live preview pipeline: render requests, a worker thread, stale-frame dropping.

Every edit produces a :class:`PreviewRequest` with a rising generation number. Requests go
into a one-slot mailbox: a newer request replaces one the worker has not started, so a burst
of drag events coalesces into "render the newest" (latest wins, no queue builds up). The
worker renders with the engine on a thread, reusing one :class:`RenderCache` (colour
transfer, augmentation and shapes are computed once per occluder, not per drag step). A frame
older than the one on screen is dropped (optionally, any frame older than the newest
request: ``drop_superseded``). The UI thread never renders.

``PreviewWorker(synchronous=True)`` renders nothing until :meth:`PreviewWorker.run_pending`
is called, so tests can drive it step by step.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal

from studio.core.cache import RenderCache
from studio.core.errors import StudioError
from studio.core.inputs import Face, Occluder, Texture
from studio.core.params import RenderParams
from studio.core.render import Result, render
from studio.gui.parameters import raw_params

PREVIEW_MAX_SIDE = 512


@dataclass(frozen=True)
class PreviewRequest:
    generation: int
    face: Face  #: at preview resolution
    occluder: Occluder | Texture | None
    params: RenderParams
    backend: str = "cpu"
    created: float = field(default_factory=time.perf_counter)


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


def preview_factor(face: Face, max_side: int = PREVIEW_MAX_SIDE) -> float:
    return min(1.0, max_side / max(face.size))


def render_request(request: PreviewRequest, cache: RenderCache) -> PreviewFrame:
    """Render one request (engine call; runs on the worker thread)."""
    t0 = time.perf_counter()
    try:
        result = render(request.face, request.occluder, request.params, request.backend, cache)
        corners = result.placement.corners() if result.placement else []
        error = None
    except StudioError as err:
        result, corners, error = None, None, err.reason
    ms = (time.perf_counter() - t0) * 1000.0
    return PreviewFrame(request.generation, request, result, error, ms, corners)


class PreviewWorker(QObject):
    """Renders the newest request on a background thread (or on demand when synchronous)."""

    frameReady = Signal(object)

    def __init__(self, synchronous: bool = False, cache: RenderCache | None = None) -> None:
        super().__init__()
        self.synchronous = synchronous
        self.cache = cache or RenderCache(256 * 2**20)
        self.rendered: list[int] = []  #: generations rendered, in order (for tests and stats)
        self._slot: PreviewRequest | None = None
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

    def run_pending(self) -> PreviewFrame | None:
        """Synchronous mode: render the newest pending request now and emit its frame."""
        with self._cond:
            request, self._slot = self._slot, None
        if request is None:
            return None
        return self._render(request)

    def _render(self, request: PreviewRequest) -> PreviewFrame:
        frame = render_request(request, self.cache)
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
        self.dropped = 0
        self.shown = 0
        self.last_frame: PreviewFrame | None = None
        self.raw = False  #: render without harmonisation (the "Raw paste" view)
        self._preview_faces: dict[tuple[str, float], Face] = {}

    def preview_face(self, face: Face) -> Face:
        """``face`` at preview resolution (cached; the bbox stays exact)."""
        factor = preview_factor(face)
        key = (face.key, factor)
        if key not in self._preview_faces:
            if len(self._preview_faces) > 16:
                self._preview_faces.clear()
            self._preview_faces[key] = face if factor >= 1.0 else face.resized(factor)
        return self._preview_faces[key]

    def request(self, face: Face, occluder: Occluder | Texture | None, params: RenderParams) -> int:
        """Ask for a frame; returns its generation."""
        if self.raw:
            params = raw_params(params)
        self.generation += 1
        req = PreviewRequest(
            self.generation, self.preview_face(face), occluder, params, self.backend
        )
        self.worker.submit(req)
        self.requested.emit(self.generation)
        return self.generation

    def accept_frame(self, frame: PreviewFrame) -> None:
        """Show ``frame`` unless it is stale.

        With ``drop_superseded`` (the default is False) a frame older than the newest request
        is dropped. Otherwise a frame is dropped only when a newer one is already shown: during
        a continuous drag whose events come faster than renders finish, every frame would be
        superseded and the canvas would freeze until the drag stops; showing the newest frame
        that exists keeps it moving, and the worker always renders the newest request.
        """
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
