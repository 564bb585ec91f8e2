"""The batch exporter: plan, engines (local pool, Ray), worker, export records, resume.
May import every other part of core; never commands, gui or Qt.
"""

from studio.core.export.engines import InProcessEngine, LocalEngine, RayEngine, make_engine
from studio.core.export.inputs import job_sources
from studio.core.export.job import (
    ExportSummary,
    export_events,
    prepare_output,
    run_export,
)
from studio.core.export.plan import LAYOUTS, JobPlan, make_plan
from studio.core.export.records import JOB
from studio.core.export.spec import ExportSpec

__all__ = [
    "JOB",
    "LAYOUTS",
    "ExportSpec",
    "ExportSummary",
    "InProcessEngine",
    "JobPlan",
    "LocalEngine",
    "RayEngine",
    "export_events",
    "job_sources",
    "make_engine",
    "make_plan",
    "prepare_output",
    "run_export",
]
