"""Mojibake repair: real sentences broken by real round trips come back, clean text is never touched.

The sentences are real translations from Debian's gettext catalogs (coreutils,
tar, apt, dpkg, bash, ...), the same source as bench/encoding/.
"""

from __future__ import annotations

import ftfy.bad_codecs  # noqa: F401  (the browsers' "sloppy" cp125x decoders)
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from polyglot_pipe.model import Edit
from polyglot_pipe.stages.repair import language_score, repair_text

SEED_RUSSIAN = "Заголовок открываемого материала"

RUSSIAN = [
    SEED_RUSSIAN,
    "что и соответствующий аргумент командной строки",
    "Создание всех файлов относительно текущего каталога",
    "не удалось безопасно удалить старый файл",
]
UKRAINIAN = ["Виводить список користувачів, які увійшли до системи відповідно до ФАЙЛА."]
BULGARIAN = ["Допълване не се извършва, ако изходът е по-широк от"]
GREEK = ["Καθορίζει τιμές και χαρακτηριστκά μεταβλητής.", "syntax error: μη αναμενόμενο τέλος αρχείου"]
CENTRAL = [
    "Kompresja nie działa z --continue ani --start-pos, opcje te zostaną wyłączone.",
    "epoka w numerze wersji jest zbyt duża",
    "* tabN způsob čekání na vodorovný tabelátor, N je 0–3",
    "Belső hiba, a rendezés nem fejeződött be",
]
OTHERS = [
    "Archiv enthält Dateinamen, deren Präfixe entfernt wurden.",
    "Fin prématurée du fichier d'instantané",
    "Ficheiros vazios não podem ser arquivos válidos",
    "geçerliliğini kaybetmiş olabilir fakat bu sayede kaynaklar çevrimdışı olsa",
    "以下のパッケージはインストール中に重大な問題が発生したため混乱しています。",
    "每个 <名称> 都对应一个之前已通过 \"complete\" 内建定义了补全规约的命令。",
    "您必須指定 -Acdtrux, --delete 或 --test-label 選項之一",
    "GnuTLS: prio 문자열을 바로 설정할 수 없습니다. 기본 우선순위 설정으로 돌아갑니다.",
    "Dạng danh sách không hỗ trợ, đang thử phân tích dạng danh sách Unix.",
]


def broken(text: str, really: str, shown_as: str) -> str:
    return text.encode(really).decode(shown_as)


# (kind, sentences, encoded with, shown as)
LEGACY_KINDS = [
    ("cp1251-as-cp1252", RUSSIAN + UKRAINIAN + BULGARIAN, "cp1251", "sloppy-windows-1252"),
    ("cp1251-as-latin-1", RUSSIAN + UKRAINIAN + BULGARIAN, "cp1251", "latin-1"),
    ("koi8-r-as-cp1251", RUSSIAN + BULGARIAN, "koi8_r", "sloppy-windows-1251"),
    ("koi8-r-as-latin-1", RUSSIAN + BULGARIAN, "koi8_r", "latin-1"),
    ("cp866-as-cp1251", RUSSIAN + BULGARIAN, "cp866", "sloppy-windows-1251"),
    ("cp1253-as-cp1252", GREEK, "cp1253", "sloppy-windows-1252"),
    ("cp1250-as-cp1252", CENTRAL, "cp1250", "sloppy-windows-1252"),
]


def test_the_issue_examples_are_repaired():
    for bad, name in [
        ("Ð—Ð°Ð³Ð¾Ð»Ð¾Ð²Ð¾Ðº", "utf-8-as-cp1252"),
        ("Çàãîëîâîê îòêðûâàåìîãî ìàòåðèàëà", "cp1251-as-cp1252"),
        ("ъБЗПМПЧПЛ ПФЛТЩЧБЕНПЗП НБФЕТЙБМБ", "koi8-r-as-cp1251"),
    ]:
        text, edits = repair_text(bad)
        assert text in (SEED_RUSSIAN, "Заголовок"), bad
        assert {e.repair for e in edits} == {name}


def test_koi8_shown_as_cp1251_looks_like_the_issue_says():
    assert broken("Заголовок", "koi8_r", "cp1251") == "ъБЗПМПЧПЛ"
    assert repair_text(broken(SEED_RUSSIAN, "koi8_r", "cp1251"))[0] == SEED_RUSSIAN


@pytest.mark.parametrize("kind, sentences, really, shown_as", LEGACY_KINDS, ids=[k[0] for k in LEGACY_KINDS])
def test_each_legacy_confusion_is_repaired_and_named(kind, sentences, really, shown_as):
    for sentence in sentences:
        bad = broken(sentence, really, shown_as)
        assert bad != sentence
        text, edits = repair_text(bad)
        assert text == sentence, (kind, bad)
        # "-as-latin-1" and "-as-cp1252" undo the same bytes when no C1 control shows
        assert edits and all(e.repair.startswith(kind.split("-as-")[0] + "-as-") for e in edits)


@pytest.mark.parametrize(
    "shown_as, name",
    [("sloppy-windows-1252", "utf-8-as-cp1252"), ("latin-1", "utf-8-as-latin-1"), ("sloppy-windows-1251", "utf-8-as-cp1251")],
)
def test_utf8_read_as_a_single_byte_page_is_repaired(shown_as, name):
    for sentence in RUSSIAN + GREEK + CENTRAL + OTHERS:
        bad = broken(sentence, "utf-8", shown_as)
        text, edits = repair_text(bad)
        assert text == sentence, bad
        # UTF-8 shown as cp1252 and as latin-1 differ only where a C1 control shows
        assert all(e.repair in (name, "utf-8-as-cp1252", "utf-8-as-latin-1") for e in edits)


def test_double_encoded_utf8_is_repaired_in_one_go():
    for sentence in RUSSIAN + OTHERS[:3]:
        bad = broken(broken(sentence, "utf-8", "sloppy-windows-1252"), "utf-8", "sloppy-windows-1252")
        text, edits = repair_text(bad)
        assert text == sentence
        assert edits and all(e.repair.count("utf-8-as-") == 2 for e in edits)


CLEAN = [
    "João e Conceição moram em São Paulo desde 2019.",
    "SÃO PAULO, JOÃO and CONCEIÇÃO: the Ã in names",
    "Thủ đô của Việt Nam là Hà Nội, một thành phố nghìn năm văn hiến.",
    "© 2024 «Новости» — все права защищены, цена 5 € № 17",
    "Copyright © 2024 Free Software Foundation, Inc.",
    "∑ x² ≤ ∫ f(x) dx ± 3 °C, α + β = γ",
    "┌──┬──┐\n│ a │ b │\n└──┴──┘",
    "Privet, kak dela? Zagolovok otkryvaemogo materiala",
    "Ελληνικά και русский в одной строке",
    "Il a été très ému, à côté du château; l’œuvre coûte 12 €.",
    "Señor Muñoz, ¿qué año es? ¡Olé!",
    "Søren Kierkegaard og Århus, Ürümqi und Öl, Ørsted",
    "Col·legi de l’Hospitalet",
    "ajoutez « \\n » à FORMAT.",
    "Viene saltato %s poiché non è installato e sono richiesti solo gli aggiornamenti.",
] + RUSSIAN + UKRAINIAN + BULGARIAN + GREEK + CENTRAL + OTHERS


@pytest.mark.parametrize("text", CLEAN)
def test_clean_text_is_left_exactly_as_it_is(text):
    assert repair_text(text) == (text, ())


def test_a_mixed_line_gets_only_its_broken_part_repaired():
    bad_russian = broken(SEED_RUSSIAN, "cp1251", "sloppy-windows-1252")
    line = f"Read more: {bad_russian} — and a café in São Paulo."
    text, edits = repair_text("Subscribe\n" + line + "\n")
    assert text == f"Subscribe\nRead more: {SEED_RUSSIAN} — and a café in São Paulo.\n"
    assert [text[e.start : e.end] for e in edits] == SEED_RUSSIAN.split()
    assert {e.repair for e in edits} == {"cp1251-as-cp1252"}


def test_clean_greek_beside_broken_russian_on_one_line():
    line = GREEK[0] + " " + broken(RUSSIAN[1], "cp1251", "sloppy-windows-1252")
    assert repair_text(line)[0] == GREEK[0] + " " + RUSSIAN[1]


def test_edits_point_into_both_texts():
    raw = "Subscribe\n" + broken(SEED_RUSSIAN, "utf-8", "latin-1") + "\nend"
    text, edits = repair_text(raw)
    for e in edits:
        assert isinstance(e, Edit)
        assert raw[e.raw_start : e.raw_end] == broken(text[e.start : e.end], "utf-8", "latin-1")


def test_language_score_prefers_text_over_mojibake():
    assert language_score(SEED_RUSSIAN) > language_score(broken(SEED_RUSSIAN, "koi8_r", "cp1251")) + 2
    assert language_score(CENTRAL[0]) > language_score(broken(CENTRAL[0], "cp1250", "sloppy-windows-1252"))


def check_mapping(raw: str) -> str:
    text, edits = repair_text(raw)
    assert list(edits) == sorted(edits, key=lambda e: e.start)
    pieces, pos, raw_pos = [], 0, 0
    for e in edits:
        assert pos <= e.start <= e.end and raw_pos <= e.raw_start <= e.raw_end
        # outside the edits, the two texts are the same characters
        assert text[pos : e.start] == raw[raw_pos : e.raw_start]
        assert "\n" not in raw[e.raw_start : e.raw_end] and "\n" not in text[e.start : e.end]
        pieces.append(raw[raw_pos : e.raw_end])
        pos, raw_pos = e.end, e.raw_end
    assert text[pos:] == raw[raw_pos:]
    assert "".join(pieces) + raw[raw_pos:] == raw
    assert text.count("\n") == raw.count("\n")
    assert [len(line) > 0 for line in text.split("\n")] == [len(line) > 0 for line in raw.split("\n")]
    return text


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_edits_map_any_text_back_to_its_input_exactly(raw):
    check_mapping(raw)


_MOJIBAKE = st.sampled_from(RUSSIAN + GREEK + CENTRAL + OTHERS).flatmap(
    lambda s: st.sampled_from(
        [s, broken(s, "utf-8", "sloppy-windows-1252"), broken(s, "utf-8", "latin-1")]
        + ([broken(s, "cp1251", "sloppy-windows-1252")] if s in RUSSIAN else [])
    )
)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(_MOJIBAKE, st.text(alphabet="abc \n\t.,", max_size=10)), max_size=6))
def test_edits_map_mixed_documents_back_exactly(parts):
    check_mapping(" ".join(parts))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(CLEAN), min_size=1, max_size=5), st.sampled_from(["\n", " ", "\r\n", "\n\n"]))
def test_repair_is_idempotent_on_clean_text(lines, sep):
    text = sep.join(lines)
    assert repair_text(text) == (text, ())
    repaired = repair_text(broken(SEED_RUSSIAN, "cp1251", "sloppy-windows-1252") + sep + text)[0]
    assert repair_text(repaired) == (repaired, ())


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(_MOJIBAKE, st.text(alphabet="abc \t.,«»é", max_size=10)), min_size=1, max_size=6))
def test_each_line_is_repaired_on_its_own_and_the_same_every_time(lines):
    """Repairs never look past a line, so a page repairs as its lines do, whichever
    lines came before (boilerplate repeated across pages is repaired alike)."""
    alone = [repair_text(line)[0] for line in lines]
    page = repair_text("\n".join(lines))[0]
    assert page.split("\n") == alone
    assert repair_text("\n".join(reversed(lines)))[0].split("\n") == alone[::-1]


# The speed shortcuts must not change a decision: a round trip skipped because the text has
# no character its code page can encode would have left the text as it was, and the
# per-word bigram sums give the score the whole-text gather gives.
_MIXED_ALPHABET = st.characters(
    codec="utf-8", categories=("L", "N", "P", "Zs", "S")
) | st.sampled_from("Заголовок Çàãîëîâîê ъБЗПМПЧПЛ «»—№ αβγ żółć é")


@given(st.text(_MIXED_ALPHABET, max_size=60))
@settings(max_examples=300, deadline=None)
def test_round_trips_skipped_by_repertoire_would_change_nothing(text):
    from polyglot_pipe.stages.repair import ROUND_TRIPS

    non_ascii = {c for c in text if c > "\x7f"}
    for trip in ROUND_TRIPS:
        if trip.really == "utf-8":
            if not non_ascii <= trip.repertoire:
                assert trip.undo(text) is None
        elif non_ascii.isdisjoint(trip.repertoire):
            assert trip.undo_words(text) == text


@given(st.text(_MIXED_ALPHABET, max_size=300))
@settings(max_examples=300, deadline=None)
def test_word_by_word_score_equals_the_whole_text_score(text):
    from polyglot_pipe.langdata import letters

    models = letters._profiles()
    for script, group in _groups(text).items():
        model = models.get(script)
        if model is None or script == "Han":
            continue
        norm = " " + " ".join(group) + " "
        whole = model.bigrams.best([norm[i : i + 2] for i in range(len(norm) - 1)])
        by_word = float(sum(map(model.word_vector, group)).max())
        assert by_word == pytest.approx(whole, abs=1e-9)


def _groups(text: str) -> dict[str, list[str]]:
    from polyglot_pipe.langdata import letters
    from polyglot_pipe.langdata.scripts import script_of

    groups: dict[str, list[str]] = {}
    for word in text.translate(letters._NORMAL_TABLE).split():
        groups.setdefault(script_of(word[0]), []).append(word)
    return groups


# The quick rejection of round trips (stages/repair.py ``_ruled_out``) must not change a
# decision: a round trip it rules out would have lost.  With ``_TRACE`` set, ``_choose``
# judges every round trip in full, so the two paths are compared on the same lines.
_EVERY_BREAKAGE = st.sampled_from(RUSSIAN + UKRAINIAN + BULGARIAN + GREEK + CENTRAL + OTHERS + CLEAN).flatmap(
    lambda s: st.sampled_from(
        [s]
        + [b for really, shown_as in [("utf-8", "sloppy-windows-1252"), ("utf-8", "latin-1"),
                                      ("utf-8", "sloppy-windows-1251"), ("cp1251", "sloppy-windows-1252"),
                                      ("cp1251", "latin-1"), ("koi8_r", "sloppy-windows-1251"),
                                      ("koi8_r", "latin-1"), ("cp866", "sloppy-windows-1251"),
                                      ("cp1253", "sloppy-windows-1252"), ("cp1250", "sloppy-windows-1252")]
           if (b := _try_break(s, really, shown_as)) is not None]
    )
)


def _try_break(text: str, really: str, shown_as: str) -> str | None:
    try:
        return broken(text, really, shown_as)
    except UnicodeError:
        return None


def _full_path(text: str):
    from polyglot_pipe.stages import repair

    repair._LINE_CACHE.clear()
    repair._TRACE = []
    try:
        return repair_text(text)
    finally:
        repair._TRACE = None
        repair._LINE_CACHE.clear()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(_EVERY_BREAKAGE, _EVERY_BREAKAGE.map(lambda s: " ".join(s.split()[:3])),
                       st.text(_MIXED_ALPHABET, max_size=12)), min_size=1, max_size=5),
    st.sampled_from([" ", "\n", " — ", ", "]),
)
def test_quick_rejection_gives_what_the_full_judgement_gives(parts, sep):
    from polyglot_pipe.stages import repair

    text = sep.join(parts)
    repair._LINE_CACHE.clear()
    assert repair_text(text) == _full_path(text)


@settings(max_examples=300, deadline=None)
@given(st.text(_MIXED_ALPHABET | st.sampled_from("\x81\x8d\x9d\ufffd¡¿·’µªº\u0301"), max_size=40))
def test_token_signals_equal_the_plain_loops(text):
    """letters._token_signals caches runs of letters and skips its symbol loop when no
    character is a non-ASCII non-letter; it must count what the plain loops count."""
    import unicodedata

    from polyglot_pipe.langdata import letters
    from polyglot_pipe.langdata.scripts import COMMON, script_of

    for token in text.split():
        count = 0
        for word in letters._LETTERS_RE.findall(token):
            scripts = {"Han" if s in letters._KANJI_KANA else s for s in map(script_of, word)} - {COMMON, "Inherited"}
            count += 2 if len(scripts) > 1 else 0
            count += sum(a.islower() and b.isupper() for a, b in zip(word, word[1:]))
            count += sum(script_of(c) == COMMON for c in word[1:-1])
        for word in token.split():
            prev = ""
            for i, ch in enumerate(word):
                code = ord(ch)
                if 0x80 <= code < 0xA0 or ch == "\ufffd":
                    count += 1
                elif ch in letters._OPENING:
                    count += prev.isalpha()
                elif code > 0x7F and not ch.isalpha() and unicodedata.category(ch)[0] != "M":
                    before = prev.isalpha()
                    after = i + 1 < len(word) and word[i + 1].isalpha()
                    if (before and after and ch not in letters._INSIDE) or ((before or after) and ch not in letters._ATTACHED):
                        count += 1
                prev = ch
        assert letters._token_signals(token) == count


@settings(max_examples=300, deadline=None)
@given(
    st.text(_MIXED_ALPHABET, max_size=80),
    st.lists(st.text(_MIXED_ALPHABET, min_size=1, max_size=15), min_size=1, max_size=4),
    st.text(_MIXED_ALPHABET, max_size=80),
    st.integers(0, 14),
)
def test_gain_bounds_bound_the_change_of_evidence(before, words, after, which):
    """``_gain_bound`` (tight and quick), summed over a span's changed tokens, is at least
    the change of ``_evidence`` that undoing a round trip in the span makes."""
    from polyglot_pipe.langdata import letters
    from polyglot_pipe.stages.repair import _SINGLE_BYTE, ROUND_TRIPS

    rt = ROUND_TRIPS[which]
    if rt not in _SINGLE_BYTE:
        return
    tokens = [t for w in words for t in w.split()]
    span = " ".join(tokens)
    text = before + " " + span + " " + after
    if not tokens or len(text) >= letters._LINEAR_LIMIT:
        return
    new_tokens = [rt.undo(t) or t for t in tokens]
    gain = (letters._evidence(before + " " + " ".join(new_tokens) + " " + after)[0]
            - letters._evidence(text)[0])
    for tight in (True, False):
        bound = sum(letters._gain_bound(t, n, tight) for t, n in zip(tokens, new_tokens) if n != t)
        assert gain <= bound + 1e-6


def _badness_alphabet():
    from polyglot_pipe.stages import repair

    if repair._BADNESS is None:
        return st.sampled_from(" a")
    return st.sampled_from(sorted(set(repair._BADNESS[0]) | set(" \t\xa0azAZ.,!?вжВГРСЂў€°µ")))


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(_badness_alphabet(), min_size=1, max_size=8), st.text(_MIXED_ALPHABET, max_size=40)))
def test_ftfy_is_skipped_only_where_it_changes_nothing(text):
    """repair._may_be_bad is read from ftfy's BADNESS_RE: where it says no, is_bad finds
    nothing, and fix_encoding_and_explain gives the text back with an empty plan."""
    import ftfy
    import ftfy.badness

    from polyglot_pipe.stages import repair

    assert repair._BADNESS is not None  # the shortcut is built with this ftfy
    if not repair._may_be_bad(text):
        assert not ftfy.badness.is_bad(text)
        assert tuple(ftfy.fix_encoding_and_explain(text)) == (text, [])
