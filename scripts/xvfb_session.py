"""A new user's first session with the studio, on a real X server (Xvfb), driven by xdotool.

Starts Xvfb, opens ``python main.py`` with empty settings, user data and cache folders (as on a
first start), presses Ctrl+S (the studio opens on the shipped demo preset: it must ask where to
save, in the user's presets folder, and never write into the install), answers the dialog with
Return, then quits with Ctrl+Q. Prints one JSON line: what was saved, whether any shipped file
changed, and the screenshots taken (``--shots DIR``). `make test` runs it through
``tests/gui/test_xvfb_session.py`` where Xvfb and xdotool exist.

    python scripts/xvfb_session.py [--shots DIR] [--keep DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TITLE = "Occlusion Studio"
GRAB = (
    "import sys\n"
    "from PySide6.QtGui import QGuiApplication\n"
    "app = QGuiApplication([])\n"
    "sys.exit(0 if app.primaryScreen().grabWindow(0).save(sys.argv[1]) else 1)\n"
)


def missing_tools() -> list[str]:
    """The programs the session needs that are not installed."""
    return [tool for tool in ("Xvfb", "xdotool") if shutil.which(tool) is None]


def install_digest() -> dict[str, str]:
    """A digest of every shipped preset and bundled resource, by path."""
    from studio.core.io.paths import presets_dir, resources_dir

    out = {}
    for folder in (presets_dir(), resources_dir()):
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def start_xvfb() -> tuple[subprocess.Popen, str]:
    """Xvfb on a free display (it writes the number it took)."""
    read, write = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1600x900x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    if not number:
        proc.kill()
        raise RuntimeError("Xvfb did not start")
    return proc, f":{number}"


def xdotool(env: dict, *args: str, timeout: float = 30) -> str:
    done = subprocess.run(
        ["xdotool", *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    return done.stdout.strip()


def wait_window(env: dict, name: str, timeout: float = 60) -> str:
    """The id of the first visible window whose title contains ``name``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = xdotool(env, "search", "--onlyvisible", "--name", name).split()
        if found:
            return found[0]
        time.sleep(0.2)
    raise TimeoutError(f"no window named {name!r} within {timeout:.0f} s")


def press(env: dict, window: str, keys: str) -> None:
    """Give ``window`` the keyboard focus and press ``keys`` (xdotool's names)."""
    xdotool(env, "windowfocus", "--sync", window)
    time.sleep(0.3)
    xdotool(env, "key", "--clearmodifiers", keys)


def wait_for(check, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.2)
    raise TimeoutError(f"{what} within {timeout:.0f} s")


def grab(env: dict, path: Path) -> str:
    """A screenshot of the whole X screen."""
    subprocess.run(
        [sys.executable, "-c", GRAB, str(path)],
        env={**env, "QT_QPA_PLATFORM": "xcb"},
        timeout=60,
        check=True,
        capture_output=True,
    )
    return str(path)


def session(home: Path, shots: Path | None = None) -> dict:
    """Run the session with ``home`` as the user's home; the result, as a dict."""
    before = install_digest()
    xvfb, display = start_xvfb()
    data = home / "data"
    env = {
        **os.environ,
        "DISPLAY": display,
        "QT_QPA_PLATFORM": "xcb",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "STUDIO_DATA_DIR": str(data),
        "STUDIO_CACHE_DIR": str(home / "cache"),
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    log = (home / "studio.log").open("w")
    studio = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py")], env=env, stdout=log, stderr=log, cwd=home
    )
    result: dict = {"shots": []}
    try:
        main = wait_window(env, TITLE)
        result["title"] = xdotool(env, "getwindowname", main)
        time.sleep(2.0)  # the first frame and thumbnails (the keys work before them too)
        if shots:
            result["shots"].append(grab(env, shots / "1-first-start.png"))
        press(env, main, "ctrl+s")
        dialog = wait_window(env, "Save preset", timeout=30)
        if shots:
            result["shots"].append(grab(env, shots / "2-save-dialog.png"))
        press(env, dialog, "Return")  # the suggested file, in the user's presets folder
        saved = data / "presets" / "demo-copy.yaml"
        wait_for(saved.is_file, 30, f"{saved} was not written")
        result["saved"] = str(saved)
        time.sleep(0.5)
        result["title_after"] = xdotool(env, "getwindowname", main)
        if shots:
            result["shots"].append(grab(env, shots / "3-saved.png"))
        press(env, main, "ctrl+q")
        studio.wait(timeout=30)
        result["exit_code"] = studio.returncode
    except TimeoutError as err:  # said in the result, beside what changed
        result["error"] = str(err)
    finally:
        if studio.poll() is None:
            studio.kill()
        xvfb.kill()
        log.close()
    result["log"] = (home / "studio.log").read_text(errors="replace")[-2000:]
    after = install_digest()
    result["install_changed"] = sorted(
        p for p in set(before) | set(after) if before.get(p) != after.get(p)
    )
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shots", type=Path, help="save screenshots of the session here")
    p.add_argument("--keep", type=Path, help="the user's home for the session (kept)")
    args = p.parse_args(argv)
    missing = missing_tools()
    if missing:
        print(f"xvfb_session: error: {', '.join(missing)} not installed", file=sys.stderr)
        return 2
    if args.shots:
        args.shots.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        home = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        home.mkdir(parents=True, exist_ok=True)
        result = session(home, args.shots)
    print(json.dumps(result))
    return 0 if result.get("saved") and not result["install_changed"] else 1


if __name__ == "__main__":
    sys.exit(main())
