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
import bone_age, bone_age.cli, bone_age.hand.pipeline, bone_age.hand.localize, bone_age.hand.stage, bone_age.hand.report
import bone_age.fracture, bone_age.fracture.film, bone_age.clavicle, bone_age.bonescan, bone_age.hand.gate, bone_age.hand.gp
bad = [m for m in sys.modules if m.startswith(('PyQt', 'PySide', 'gui', 'bone_age.training'))]
assert not bad, bad
print('ok')
"""


def test_library_imports_without_qt_or_training():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_the_import_contract_covers_every_library_module():
    """Every package and module of the library but ``training`` is named in the contract that keeps training and Qt
    out (``pyproject.toml``), so that a new module cannot slip past ``lint-imports``."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    contracts = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    sources = set(next(c for c in contracts if "bone_age.training" in c.get("forbidden_modules", [])
                       and "PyQt6" in c["forbidden_modules"])["source_modules"])
    library = {f"bone_age.{p.stem if p.is_file() else p.name}" for p in (root / "bone_age").iterdir()
               if (p.suffix == ".py" and not p.name.startswith("_")) or (p.is_dir() and (p / "__init__.py").exists())}
    assert library - {"bone_age.training"} <= sources, sorted(library - sources - {"bone_age.training"})
