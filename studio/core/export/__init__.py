"""The batch exporter: plan, engines (local pool, Ray), worker, export records, resume.
May import every other part of core; never commands, gui or Qt.
"""

from studio.core.export.engines import InProcessEngine, LocalEngine, RayEngine, make_engine
from studio.core.export.folder import LAYOUTS, ExportFolder, Refused
from studio.core.export.inputs import job_sources
from studio.core.export.job import (
    ExportSummary,
    export_events,
    prepare_output,
    run_export,
)
from studio.core.export.plan import JobPlan, make_plan
from studio.core.export.records import JOB, MANIFEST, read_rows
from studio.core.export.review.decisions import read_decisions
from studio.core.export.rows import row_problem
from studio.core.export.samples import ExportSamples, is_export
from studio.core.export.sheet import labels_view, sample_image
from studio.core.export.spec import ExportSpec
from studio.core.export.store import StoreFolder

__all__ = [
    "JOB",
    "LAYOUTS",
    "MANIFEST",
    "ExportFolder",
    "ExportSamples",
    "ExportSpec",
    "ExportSummary",
    "InProcessEngine",
    "JobPlan",
    "LocalEngine",
    "RayEngine",
    "Refused",
    "StoreFolder",
    "export_events",
    "is_export",
    "job_sources",
    "labels_view",
    "make_engine",
    "make_plan",
    "prepare_output",
    "read_decisions",
    "read_rows",
    "row_problem",
    "run_export",
    "sample_image",
]
