"""Reading films: one entry point, ``read_film``, with a reader per format behind it."""
from .film import Film, FilmSource, read_film

__all__ = ["Film", "FilmSource", "read_film"]
