"""Bytes to text: BOMs, strict UTF-8, then charset-normalizer for legacy code pages."""

from __future__ import annotations

import codecs
from dataclasses import dataclass

__all__ = ["Decoded", "NotTextError", "decode_bytes"]

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class NotTextError(ValueError):
    """The bytes are not text in any encoding we know (an image, an archive, ...)."""


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str
    confidence: float
    issues: tuple[str, ...] = ()


def decode_bytes(data: bytes) -> Decoded:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return Decoded(data.decode(encoding), encoding, 1.0)
    try:
        return Decoded(data.decode("utf-8"), "utf-8", 1.0)
    except UnicodeDecodeError:
        pass
    if b"\x00" in data[:4096]:
        raise NotTextError("binary data (NUL bytes), not text")
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise NotTextError("no text encoding fits these bytes")
    return Decoded(str(best), best.encoding, 1.0 - best.chaos)
