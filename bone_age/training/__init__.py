"""Training, evaluation and data preparation. Imports ``bone_age``; the library never imports this package."""
