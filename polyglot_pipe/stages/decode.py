"""Bytes to text: BOMs, strict UTF-8, then legacy code pages chosen by language evidence.

Order of trust: a byte-order mark; strict UTF-8 (legacy text almost never
decodes as valid UTF-8 by accident); otherwise every legacy code page of the
languages we serve, plus charset-normalizer's guess, is tried, and the one whose
text reads most like a language (``langdata.letters.language_score``) wins.  Byte
statistics alone go wrong on short inputs and between close relatives (cp1250
and iso-8859-2, cp1251 and koi8-r); language evidence does not.

Encoding names are Python codec names as ``codecs.lookup(name).name`` spells
them ("utf-8", "cp1251", "koi8-r", "iso8859-5", "shift_jis", "euc_kr", ...), so
``data.decode(decoded.encoding)`` always reproduces the text.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

import regex

from polyglot_pipe.errors import NotTextError
from polyglot_pipe.langdata.scripts import script_group, script_of

__all__ = ["Decoded", "NotTextError", "decode_bytes", "looks_binary", "LEGACY_ENCODINGS"]

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

#: Code pages of the languages we serve, most common first (the tie-break order).
LEGACY_ENCODINGS = (
    "cp1252", "cp1251", "cp1250", "koi8-r", "koi8-u", "cp866", "iso8859-5",
    "iso8859-2", "cp1253", "cp1254", "iso8859-1",
    "shift_jis", "euc_jp", "gb18030", "big5", "euc_kr",
)

_MULTIBYTE = frozenset(("shift_jis", "euc_jp", "gb18030", "big5", "euc_kr"))

#: File signatures of common binary formats.
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"%PDF-", "a PDF document"),
    (b"\x7fELF", "an ELF executable"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"RIFF", "a RIFF (audio/video) file"),
    (b"OggS", "an Ogg file"),
    (b"SQLite format 3\x00", "an SQLite database"),
)

#: Non-ASCII characters that are normal in text although they are not letters.
_TEXT_SYMBOLS = frozenset("«»—–“”„‘’‚…©®°•€£¥§±×÷\u00a0¡¿‹›™")

_SAMPLE_CHARS = 3000
_WORD_RE = regex.compile(r"\p{L}+")

#: charset-normalizer's names for the code pages we consider.
_SAME_AS = {codecs.lookup(e).name.replace("-", "_"): codecs.lookup(e).name for e in LEGACY_ENCODINGS}
_SAME_AS.update({"iso8859_5": "iso8859-5", "iso8859_2": "iso8859-2", "latin_1": "iso8859-1",
                 "iso8859_1": "iso8859-1", "koi8_r": "koi8-r", "koi8_u": "koi8-u",
                 # supersets charset-normalizer prefers; ours decode the same text when they fit
                 "cp932": "shift_jis", "shift_jis_2004": "shift_jis", "euc_jis_2004": "euc_jp",
                 "cp949": "euc_kr", "gbk": "gb18030", "gb2312": "gb18030", "big5hkscs": "big5",
                 "cp1125": "cp866"})


#: The first bytes of common binary formats (images, archives, executables, databases).
_BINARY_MAGIC = (
    b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"%PDF", b"\x1f\x8b", b"BZh",
    b"\x7fELF", b"\xfd7zXZ", b"7z\xbc\xaf", b"RIFF", b"OggS", b"fLaC", b"ID3", b"\x00\x00\x01\x00",
    b"SQLite format 3", b"MZ",
)


def looks_binary(head: bytes) -> bool:
    """Is this the start of a binary file rather than text in some encoding?"""
    if head.startswith(_BINARY_MAGIC):
        return True
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return False  # a BOM: UTF-16/32 text has NUL bytes and is still text
    if b"\x00" not in head:
        return False
    return bomless_unicode(head) is None  # UTF-16/32 without a BOM is text, as decode_bytes reads it


@dataclass(frozen=True, slots=True)
class Decoded:
    """Decoded text, the codec that produced it, how sure we are (0..1), and issue codes."""

    text: str
    encoding: str
    confidence: float
    issues: tuple[str, ...] = ()


def decode_bytes(data: bytes, *, encodings: tuple[str, ...] = LEGACY_ENCODINGS) -> Decoded:
    """Decode ``data``; raises NotTextError for binary data.

    Issue codes: "decode-replaced-bytes" when some bytes fit no character
    and became U+FFFD.
    """
    if not data:
        return Decoded("", "utf-8", 1.0)
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _decode_with(data, encoding, 1.0)
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise NotTextError(f"binary data ({what}), not text")
    head = data[:4096]
    if b"\x00" in head:
        # ASCII-heavy UTF-16 is valid UTF-8 too, so look for it first
        utf16 = _bomless_utf16(data)
        if utf16 is not None:
            return utf16
    try:
        return Decoded(data.decode("utf-8"), "utf-8", 1.0)
    except UnicodeDecodeError:
        pass
    if b"\x00" in head:
        raise NotTextError("binary data (NUL bytes), not text")
    controls = sum(b < 0x20 and b not in b"\t\n\r\f\v\x1b" for b in head)
    if controls > 0.05 * len(head):
        raise NotTextError(f"binary data ({controls} control bytes in the first {len(head)}), not text")
    return _by_language_evidence(data, encodings)


def _decode_with(data: bytes, encoding: str, confidence: float) -> Decoded:
    try:
        return Decoded(data.decode(encoding), codecs.lookup(encoding).name, confidence)
    except UnicodeDecodeError:
        text = data.decode(encoding, errors="replace")
        return Decoded(text, codecs.lookup(encoding).name, confidence * 0.5, ("decode-replaced-bytes",))


def _bomless_utf16(data: bytes) -> Decoded | None:
    """UTF-16 (or UTF-32) without a BOM shows as NULs in every other (or three in four) byte of ASCII-heavy text."""
    return bomless_unicode(data, prefix=False)


def bomless_unicode(data: bytes, *, prefix: bool = True) -> Decoded | None:
    """``data`` read as BOM-less UTF-32 or UTF-16 when its NULs say so and it decodes to printable text, else None.

    ``prefix``: ``data`` is the start of a longer file (the sources' sniffing), so a
    character cut at its end is no reason to refuse it.
    """
    if len(data) < 16:
        return None
    for encoding, unit, zeros_at in (
        ("utf-32-le", 4, (1, 2, 3)), ("utf-32-be", 4, (0, 1, 2)), ("utf-16-le", 2, (1,)), ("utf-16-be", 2, (0,)),
    ):
        body = data[: len(data) - len(data) % unit] if prefix else data
        if len(body) % unit:
            continue
        lanes = [body[k::unit] for k in zeros_at]
        if not all(lane.count(0) > 0.3 * len(lane) for lane in lanes):
            continue
        for cut in ((0, 2, 4) if prefix and unit == 2 else (0,)):  # a surrogate pair cut in half
            try:
                text = body[: len(body) - cut].decode(encoding)
            except UnicodeDecodeError:
                continue
            if all(c.isprintable() or c in "\t\n\r\f" for c in text):
                return Decoded(text, encoding, 0.8)
            break
    return None


def _sample(data: bytes) -> bytes:
    """The lines with non-ASCII bytes (they carry all the evidence), cut to a few thousand bytes."""
    lines = [line for line in data.split(b"\n") if not line.isascii()]
    out, size = [], 0
    for line in lines:
        out.append(line)
        size += len(line)
        if size >= _SAMPLE_CHARS:
            break
    return b"\n".join(out)


def _evidence(text: str) -> float:
    """Language score of a candidate decoding, minus a share of unlikely characters.

    Unlikely: non-ASCII characters that are neither letters nor usual text
    symbols, one- or two-letter words in a script other than the words on
    both sides (Italian "è" read as Cyrillic "и"), and unpaired guillemets.
    """
    from polyglot_pipe.langdata.letters import language_score

    non_ascii = [c for c in text if ord(c) > 0x7F]
    if not non_ascii:
        return 0.0
    junk = sum(not c.isalpha() and c not in _TEXT_SYMBOLS for c in non_ascii)
    words = _WORD_RE.findall(text)
    scripts = [script_group(script_of(w[0])) for w in words]
    for i in range(1, len(words) - 1):
        if len(words[i]) <= 2 and scripts[i - 1] == scripts[i + 1] != scripts[i]:
            junk += 1
    # guillemets come in pairs; a lone "»" is usually a byte of some other letter
    for line in text.split("\n"):
        junk += abs(line.count("«") - line.count("»"))
    return language_score(text) - 10.0 * min(1.0, junk / len(non_ascii))


def _by_language_evidence(data: bytes, encodings: tuple[str, ...]) -> Decoded:
    from charset_normalizer import from_bytes

    guess = from_bytes(data).best()
    order = list(encodings)
    if guess is not None and _SAME_AS.get(guess.encoding) in _MULTIBYTE:
        # charset-normalizer's guess breaks ties between CJK code pages, which
        # our language evidence barely tells apart; between single-byte pages
        # its guess is worse than our fixed order
        order.remove(_SAME_AS[guess.encoding])
        order.insert(0, _SAME_AS[guess.encoding])
    sample = _sample(data)
    seen: dict[str, str] = {}
    scored: list[tuple[float, int, str]] = []
    for rank, encoding in enumerate(order):
        try:
            name = codecs.lookup(encoding).name
            text = sample.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
        if name in seen or text in seen.values():
            continue
        seen[name] = text
        scored.append((_evidence(text), -rank, name))
    if not scored:
        if guess is not None:
            return _decode_with(data, guess.encoding, 0.3)
        return _decode_with(data, "cp1252", 0.1)
    scored.sort(reverse=True)
    best_score, _, best = scored[0]
    margin = best_score - scored[1][0] if len(scored) > 1 else 5.0
    confidence = round(min(1.0, 0.5 + margin / 4), 3)
    return _decode_with(data, best, confidence)
