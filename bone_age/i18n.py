"""The user's language: one message catalogue per language (``assets/i18n/bone_age_<lang>.ts``, Qt Linguist's
format), read by the viewer through Qt (compiled ``.qm`` beside it) and by the reports through ``translator(lang)``.

A catalogue entry is a fixed text (a label, a bone name) or a template with ``{fields}`` (a warning, a summary line):
``translate`` matches a text against the templates, translates the fields that are themselves entries (bone names)
and writes the translated template. English is the source language: its translator returns every text unchanged.
"""
from __future__ import annotations

import locale
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

from ._resources import assets_dir

__all__ = ["LANGUAGES", "CONTEXT", "Translator", "translator", "system_language", "catalogue_path"]

LANGUAGES = {"en": "English", "zh_CN": "简体中文"}
CONTEXT = "bone_age"  # the one Qt translation context of the catalogue
_FIELD = re.compile(r"\{(\w+)(?::([^{}]*))?\}")
_NUMBER = r"[-+]?\d+(?:\.\d+)?"  # a field written {name:n} in a template's source holds a number


def catalogue_path(lang: str, suffix: str = ".ts") -> Path:
    return assets_dir() / "i18n" / f"bone_age_{lang}{suffix}"


def system_language() -> str:
    """'zh_CN' when the system locale is Chinese, else 'en'; ``BONE_AGE_LANG`` overrides."""
    chosen = os.environ.get("BONE_AGE_LANG")
    if chosen in LANGUAGES:
        return chosen
    name = os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG") or (locale.getlocale()[0] or "")
    return "zh_CN" if name.lower().startswith("zh") else "en"


@dataclass(frozen=True)
class Translator:
    """Translates texts of the catalogue of ``lang`` (``__call__``); texts not in it come back unchanged."""

    lang: str
    fixed: dict[str, str]
    templates: tuple[tuple[re.Pattern, str, tuple[str, ...]], ...]

    def __call__(self, text: str) -> str:
        if text in self.fixed:
            return self.fixed[text]
        for pattern, translated, names in self.templates:
            m = pattern.fullmatch(text)
            if m:
                values = {k: self(v) for k, v in m.groupdict().items()}
                return _FIELD.sub(lambda f: values.get(f.group(1), f.group(0)), translated)
        return text

    def template(self, source: str) -> str:
        """The translated template of ``source`` (a template with ``{fields}``, formatted by the caller)."""
        return self.fixed.get(source, source)


def _pattern(source: str) -> tuple[re.Pattern, tuple[str, ...]]:
    parts, names, pos = [], [], 0
    for m in _FIELD.finditer(source):
        parts.append(re.escape(source[pos:m.start()]))
        if m.group(1) in names:
            parts.append(f"(?P={m.group(1)})")
        else:
            parts.append(f"(?P<{m.group(1)}>{_NUMBER if m.group(2) == 'n' else '.+?'})")
            names.append(m.group(1))
        pos = m.end()
    parts.append(re.escape(source[pos:]))
    return re.compile("".join(parts), re.S), tuple(names)


@lru_cache(maxsize=4)
def translator(lang: str = "en") -> Translator:
    """The translator of ``lang`` ('en': every text as it is)."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; one of {', '.join(LANGUAGES)}")
    if lang == "en":
        return Translator("en", {}, ())
    root = ET.parse(catalogue_path(lang)).getroot()
    fixed: dict[str, str] = {}
    templates = []
    for msg in root.iter("message"):
        source, trans = msg.findtext("source") or "", msg.find("translation")
        if trans is None or not (trans.text or "").strip() or trans.get("type") in ("unfinished", "obsolete"):
            continue
        fixed[source] = trans.text
        if _FIELD.search(source):
            pattern, names = _pattern(source)
            templates.append((pattern, trans.text, names))
    templates.sort(key=lambda t: -len(t[0].pattern))  # the most specific template first
    return Translator(lang, fixed, tuple(templates))


Translate = Callable[[str], str]
