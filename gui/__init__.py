"""The PyQt6 viewer: a thin shell over ``bone_age`` (state in ``gui.state``, widgets in ``gui.window``)."""


def main() -> int:
    """Start the viewer; a missing PyQt6 is reported in words, not a traceback."""
    import sys

    try:
        from PyQt6.QtWidgets import QApplication
    except ImportError:
        print("The viewer needs PyQt6: pip install -e '.[gui]'", file=sys.stderr)
        return 2
    from .window import MainWindow, app_icon

    app = QApplication.instance() or QApplication(sys.argv)
    app.setWindowIcon(app_icon())
    win = MainWindow()
    if len(sys.argv) > 1:
        win.open_path(sys.argv[1])
    win.show()
    return app.exec()
