"""The Export tab in the window's words: what the output folder holds is said with what to do
(a new numbered folder, or Resume); a report that cannot be opened says why and where it is; the
count is remembered."""

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from test_samples_export import open_folders

from studio.gui.export_folder import folder_state, next_numbered
from studio.gui.export_panel import ExportPanel

FAKE = str(Path(__file__).with_name("fake_export.py"))


def finished_job(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "job.json").write_text("{}")
    (folder / "stats.json").write_text("{}")
    return folder


def test_folder_states_and_the_next_numbered_folder(tmp_path):
    assert folder_state(tmp_path / "new").kind == "new"
    (tmp_path / "empty").mkdir()
    assert folder_state(tmp_path / "empty").writable
    finished_job(tmp_path / "export")
    assert folder_state(tmp_path / "export").kind == "finished"
    (tmp_path / "export-2").mkdir()
    (tmp_path / "export-2" / "job.json").write_text("{}")
    assert folder_state(tmp_path / "export-2").kind == "unfinished"
    (tmp_path / "export-3").mkdir()
    (tmp_path / "export-3" / "notes.txt").write_text("mine")
    assert folder_state(tmp_path / "export-3").kind == "other"
    assert next_numbered(tmp_path / "export") == tmp_path / "export-4"
    assert next_numbered(tmp_path / "run-7") == tmp_path / "run-8"


def test_a_finished_jobs_folder_is_replaced_by_a_new_numbered_one(window, tmp_path, qtbot):
    panel = window.export_panel
    panel.runner.command = [sys.executable, FAKE, "--delay", "0"]
    open_folders(window, tmp_path)
    panel.count.setValue(3)
    panel.out.setText(str(tmp_path / "export"))
    window.show_tab("export")
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.start_button.isEnabled(), timeout=30_000)
    assert "Done: 3 written" in panel.status.text()
    # the last folder holds a job now: the next Export goes to a new one, said in a sentence
    assert panel.out.text() == str(tmp_path / "export-2")
    assert "holds a finished export" in panel.folder_sentence()
    assert panel.start_button.isEnabled()
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: f"Done: 3 written, 0 failed → {tmp_path / 'export-2'}" in panel.status.text(),
        timeout=30_000,
    )
    assert (tmp_path / "export-2" / "stats.json").is_file()
    assert panel.out.text() == str(tmp_path / "export-3")
    # the remembered folder, offered in a later session, is replaced when the tab is shown
    later = ExportPanel(window.export_preset, settings=window.settings)
    qtbot.addWidget(later)
    later.out.setText(str(tmp_path / "export"))
    later.show()
    assert later.out.text() == str(tmp_path / "export-3")


def test_an_unfinished_job_is_offered_resume_in_a_sentence(window, tmp_path, qtbot):
    panel = window.export_panel
    panel.runner.command = [sys.executable, FAKE, "--delay", "0"]
    open_folders(window, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "job.json").write_text("{}")
    panel.out.setText(str(out))
    window.show_tab("export")
    sentence = panel.folder_sentence()
    assert sentence.startswith("“out” holds an unfinished export: tick Resume to continue it")
    assert "--" not in sentence and "new folder (out-2)" in sentence
    assert not panel.start_button.isEnabled()
    assert "Export is off" in panel.start_button.toolTip()
    panel.folder_note.linkActivated.emit("resume")  # the sentence's "tick Resume" link
    assert panel.resume.isChecked() and panel.start_button.isEnabled()
    assert "continues the unfinished job" in panel.folder_sentence()
    panel.resume.setChecked(False)
    panel.folder_note.linkActivated.emit("new")
    assert panel.out.text() == str(tmp_path / "out-2") and panel.start_button.isEnabled()


def test_other_files_are_not_written_over(window, tmp_path):
    panel = window.export_panel
    open_folders(window, tmp_path)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("x")
    panel.out.setText(str(tmp_path / "mine"))
    assert "holds other files" in panel.folder_sentence()
    assert not panel.start_button.isEnabled()


def test_a_report_that_cannot_be_opened_says_why_and_where(window, tmp_path):
    panel = window.export_panel
    panel.out_dir = str(tmp_path / "done")
    (tmp_path / "done").mkdir()
    panel.open_report()
    assert "There is no report at" in panel.status.text()
    assert str(tmp_path / "done" / "report.html") in window.messages[-1]
    (tmp_path / "done" / "report.html").write_text("<html></html>")
    panel.open_url = lambda url: False  # no browser can be started here
    panel.open_report()
    assert "Could not open the report" in panel.status.text()
    assert f"It is at {(tmp_path / 'done' / 'report.html').resolve()}" in window.messages[-1]
    assert window.log.items[-1].source == "Export"


def test_count_and_seed_are_remembered(window, qtbot):
    window.export_panel.count.setValue(1234)
    window.export_panel.seed.setValue(77)
    later = ExportPanel(window.export_preset, settings=window.settings)
    qtbot.addWidget(later)
    assert later.count.value() == 1234 and later.seed.value() == 77


def test_export_failures_are_worded_in_the_studios_terms(window, tmp_path, qtbot):
    """The exporter refuses a folder that holds a job (here: made after the check, as by a
    second export): the studio says so in its own words, in the tab and the messages."""
    panel = window.export_panel
    panel.runner.command = [sys.executable, FAKE, "--delay", "0"]
    open_folders(window, tmp_path)
    out = tmp_path / "raced"
    panel.out.setText(str(out))
    out.mkdir()
    (out / "job.json").write_text("{}")
    panel.runner.start(panel.job())  # as if the other job came after the panel's check
    qtbot.waitUntil(lambda: panel.status.text().startswith("⚠"), timeout=30_000)
    assert "tick Resume to continue it, or choose another folder" in panel.status.text()
    assert "--resume" not in panel.status.text()
    assert window.log.items[-1].source == "Export"
