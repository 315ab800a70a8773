"""Segmentation: fragments tile any text exactly, and they are sentences of one script."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from polyglot_pipe.model import Document
from polyglot_pipe.pipeline import load_document
from polyglot_pipe.stages.decode import NotTextError
from polyglot_pipe.stages.segment import fragment_spans, segment_document


def fragments(text: str) -> list[str]:
    return [text[s:e] for s, e in fragment_spans(text)]


def assert_tiles(doc: Document) -> None:
    """Ordered, non-overlapping, trimmed, every non-space character in exactly one fragment."""
    text = doc.text
    covered = [0] * len(text)
    previous_end = 0
    for frag in doc.fragments:
        assert previous_end <= frag.start < frag.end <= len(text)
        assert text[frag.start : frag.end] == frag.original
        assert frag.original == frag.original.strip()
        assert text[previous_end : frag.start].strip() == ""
        for i in range(frag.start, frag.end):
            covered[i] += 1
        previous_end = frag.end
    assert text[previous_end:].strip() == ""
    for i, ch in enumerate(text):
        assert covered[i] == 1 if not ch.isspace() else covered[i] <= 1
    assert doc.rebuild() == text


MIXED = st.text(
    alphabet=st.sampled_from(list("abc XYZ.!?\n\t,;:«»\"'()-—0123") + list("Привет мир.") + list("中文。！日本語カナ") + ["\u0301", "\u200b", "\r", "\u2028", " ", "ا", "ب"]),
    max_size=300,
)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_fragments_tile_arbitrary_text(text):
    assert_tiles(segment_document(Document(id="t", text=text)))


@settings(max_examples=300, deadline=None)
@given(MIXED)
def test_fragments_tile_mixed_script_text(text):
    assert_tiles(segment_document(Document(id="t", text=text)))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_decode_to_tiled_fragments_or_a_clear_error(data):
    try:
        doc = load_document(data)
    except NotTextError as exc:
        assert str(exc)
        return
    assert_tiles(doc)


def test_a_paragraph_of_five_sentences_gives_five_fragments():
    text = "It rained. Dr. Watson stayed in! Did Holmes? Mr. J. Smith paid $3.50 for the U.S. edition. Then it ended."
    assert fragments(text) == [
        "It rained.",
        "Dr. Watson stayed in!",
        "Did Holmes?",
        "Mr. J. Smith paid $3.50 for the U.S. edition.",
        "Then it ended.",
    ]


def test_a_script_change_inside_a_line_is_left_to_the_identifier():
    # where the language changes is decided by identify's decoder, not by script rules here
    assert fragments("Chats Заголовок открываемого материала") == ["Chats Заголовок открываемого материала"]
    assert fragments("Я использую Python каждый день.") == ["Я использую Python каждый день."]


def test_glued_sentences_and_captions_are_split():
    assert fragments("energy price hikes.Police fired") == ["energy price hikes.", "Police fired"]
    assert fragments("© AFP 2023 / RUSLAN PRYANIKOVProtesters attend a rally") == [
        "© AFP 2023 / RUSLAN PRYANIKOV",
        "Protesters attend a rally",
    ]


def test_cjk_sentences_split_without_spaces():
    assert fragments("東京に行きました。今日は晴れです。") == ["東京に行きました。", "今日は晴れです。"]


def test_lines_are_fragments_and_numbers_stay_whole():
    assert fragments("Newsfeed\n0\nlog in or register\n") == ["Newsfeed", "0", "log in or register"]
    assert fragments("Sputnik International, 1920, 08.01.2022") == ["Sputnik International, 1920, 08.01.2022"]
    assert fragments("Am 4. Januar war es kalt.") == ["Am 4. Januar war es kalt."]
