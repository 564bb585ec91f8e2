"""The batch exporter: plan, engines (local pool, Ray), job records, resume, progress."""

from studio.core.export.engines import InProcessEngine, LocalEngine, RayEngine, make_engine
from studio.core.export.job import (
    ExportEvent,
    ExportSummary,
    export_events,
    prepare_output,
    run_export,
)
from studio.core.export.plan import LAYOUTS, JobPlan, make_plan

__all__ = [
    "LAYOUTS",
    "ExportEvent",
    "ExportSummary",
    "InProcessEngine",
    "JobPlan",
    "LocalEngine",
    "RayEngine",
    "export_events",
    "make_engine",
    "make_plan",
    "prepare_output",
    "run_export",
]
