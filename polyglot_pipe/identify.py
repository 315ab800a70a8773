"""Label each fragment's language (placeholder: seeded langdetect per fragment)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from .model import Document
from .scripts import COMMON, SCRIPT_DECIDES

__all__ = ["LanguageIdentifier"]


class LanguageIdentifier:
    """Stateful stage: holds langdetect's profiles, loaded once."""

    def __init__(self, langs: Sequence[str] | None = None, seed: int = 0):
        self.langs = tuple(langs) if langs else None
        self.seed = seed
        self._factory = None

    def _detect(self, text: str) -> tuple[str, float]:
        from langdetect import DetectorFactory, detector_factory
        from langdetect.lang_detect_exception import LangDetectException

        if self._factory is None:
            detector_factory.init_factory()
            self._factory = detector_factory._factory
        detector = self._factory.create()
        detector.set_seed = None
        detector.seed = self.seed
        detector.append(text)
        try:
            best = detector.get_probabilities()[0]
        except (LangDetectException, IndexError):
            return "und", 0.0
        return best.lang.split("-")[0], best.prob

    def __call__(self, doc: Document) -> Document:
        fragments = []
        for frag in doc.fragments:
            if frag.script == COMMON:
                lang, conf = "und", 1.0
            elif frag.script in SCRIPT_DECIDES:
                lang, conf = SCRIPT_DECIDES[frag.script], 1.0
            else:
                lang, conf = self._detect(frag.original)
            fragments.append(replace(frag, lang=lang, lang_confidence=conf))
        return doc.replace_fragments(fragments)

    def pipe(self, docs: Iterable[Document]):
        for doc in docs:
            yield self(doc)
