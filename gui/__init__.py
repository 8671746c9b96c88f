"""The PyQt6 viewer: a thin shell over ``bone_age`` (state in ``gui.state``, widgets in ``gui.window``)."""
from __future__ import annotations

import ctypes.util
import os
import sys

# the libraries Qt 6's xcb plugin loads that a bare Debian/Ubuntu desktop may lack, and the packages that bring them
XCB_LIBRARIES = {"xcb-cursor": "libxcb-cursor0", "xcb-icccm": "libxcb-icccm4", "xcb-keysyms": "libxcb-keysyms1",
                 "xcb-image": "libxcb-image0", "xcb-render-util": "libxcb-render-util0", "xcb-shape": "libxcb-shape0",
                 "xcb-xkb": "libxcb-xkb1", "xkbcommon-x11": "libxkbcommon-x11-0"}


def missing_system_library(platform: str | None = None) -> str | None:
    """Why Qt would fail to start here, in words, or None: on Linux with the xcb platform (the default), Qt 6 aborts
    with no word a user can act on when a library of its xcb plugin is missing (libxcb-cursor0 most often)."""
    platform = os.environ.get("QT_QPA_PLATFORM", "") if platform is None else platform
    if not sys.platform.startswith("linux") or platform not in ("", "xcb"):
        return None
    missing = [pkg for lib, pkg in XCB_LIBRARIES.items() if not ctypes.util.find_library(lib)]
    if not missing:
        return None
    return (f"The viewer's window system plugin (Qt 6 'xcb') needs libraries this system lacks. On Debian/Ubuntu: "
            f"sudo apt install {' '.join(missing)} (Fedora: the xcb-util-* packages), or run with "
            "QT_QPA_PLATFORM=wayland on a Wayland desktop.")


def main() -> int:
    """Start the viewer; a missing PyQt6 or system library is reported in words, not a traceback or an abort."""
    try:
        from PyQt6.QtWidgets import QApplication
    except ImportError:
        print("The viewer needs PyQt6: pip install -e '.[gui]'", file=sys.stderr)
        return 2
    problem = missing_system_library()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    from .window import MainWindow, app_icon

    app = QApplication.instance() or QApplication(sys.argv)
    app.setWindowIcon(app_icon())
    win = MainWindow()
    if len(sys.argv) > 1:
        win.open_path(sys.argv[1])
    win.show()
    return app.exec()
