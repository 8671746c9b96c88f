"""``python -m bone_age.training``: the training command."""
import sys

from .cli import main

sys.exit(main())
