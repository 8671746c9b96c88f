"""The library imports neither Qt nor its own training code; it works with PyQt6 blocked."""
import subprocess
import sys

CODE = r"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PyQt6', 'PySide6', 'gui'):
            raise ImportError('blocked for the test: ' + name)
sys.meta_path.insert(0, Block())
import bone_age, bone_age.cli, bone_age.pipeline, bone_age.localize, bone_age.stage, bone_age.report
import bone_age.fracture, bone_age.fracture.film, bone_age.clavicle, bone_age.bonescan, bone_age.hand_gate, bone_age.gp
bad = [m for m in sys.modules if m.startswith(('PyQt', 'PySide', 'gui', 'bone_age.training'))]
assert not bad, bad
print('ok')
"""


def test_library_imports_without_qt_or_training():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
