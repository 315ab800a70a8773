"""Bytes in: BOMs, UTF-8, the legacy code pages of the languages we serve, and binary data refused.

Texts are real sentences from Debian's gettext catalogs (as in bench/encoding/).
"""

from __future__ import annotations

import codecs
import gzip
import io
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from polyglot_pipe.stages.decode import Decoded, NotTextError, decode_bytes

SEED_RUSSIAN = "Заголовок открываемого материала"

SENTENCES = {
    "ru": ["что и соответствующий аргумент командной строки", "Создание всех файлов относительно текущего каталога",
           "не удалось безопасно удалить старый файл", SEED_RUSSIAN],
    "uk": ["Виводить список користувачів, які увійшли до системи відповідно до ФАЙЛА.",
           "spawnvpe: ймовірно, завершилося місце у середовищі",
           "Запис ШАБЛОНИ може містити декілька шаблонів, які відокремлено символами нового рядка."],
    "bg": ["Допълване не се извършва, ако изходът е по-широк от", "черти в съответния аргумент",
           "ASCII многоточие ('...') вместо уникод"],
    "pl": ["Kompresja nie działa z --continue ani --start-pos, opcje te zostaną wyłączone.",
           "epoka w numerze wersji jest zbyt duża",
           "zostanie wzięty jako skrypt sed do przetworzenia. Wszystkie pozostałe"],
    "cs": ["Pravda, pokud SOUBOR1 je pevným odkazem na SOUBOR2.", "považuje soubory za samostatné a ne za jeden dlouhý",
           "* tabN způsob čekání na vodorovný tabelátor, N je 3"],
    "hu": ["csomagok kiírása csomagnevek alapján", "Belső hiba, a rendezés nem fejeződött be",
           "A folytatáshoz gépelje be az eszköz/fájl nevét, amikor készen van."],
    "de": ["Archiv enthält Dateinamen, deren Präfixe entfernt wurden.",
           "Ein anderer Prozess hat die Datenbank zum Schreiben gesperrt und könnte sie",
           "Abhängigkeitsprobleme - wird nicht entfernt"],
    "fr": ["Fin prématurée du fichier d'instantané", "si une lettre est suivie par un deux-points, elle devra posséder un",
           "définit le nom de fichier de sortie de débogage"],
    "pt": ["el or e1: edita e depois usa a versão esquerda.", "Ficheiros vazios não podem ser arquivos válidos",
           "Sobreescreve um ficheiro desviado com uma versão não desviada."],
    "el": ["Καθορίζει τιμές και χαρακτηριστκά μεταβλητής.", "syntax error: μη αναμενόμενο τέλος αρχείου",
           "realloc: εντοπίστηκε αρνητική υπερχείληση, magic8 αλλειωμένο"],
    "tr": ["geçerliliğini kaybetmiş olabilir fakat bu sayede kaynaklar çevrimdışı olsa",
           "* werase KAR KAR, girilen son sözcüğü siler",
           "Kullanıcı ve grup bilgisini her belirtilen KULLANICI için yazdır veya"],
    "ja": ["より優先されます。キーが指定されない場合、行全体がキーとして使用されます。",
           "以下のパッケージはインストール中に重大な問題が発生したため混乱しています。",
           "--filter は標準出力に出力された塊を処理しません"],
    "zh_CN": ["如果 <选项名> 被启用则返回成功；如果使用了无效的选项，或者 <选项名>",
              "当 <类型> 为 b、c 或 u 时必须指定 <主设备号> 和 <次设备号>",
              "-t, --verbose 执行命令前输出命令内容"],
    "zh_TW": ["您必須指定 -Acdtrux, --delete 或 --test-label 選項之一",
              "授權條款 GPLv3+: GNU GPL 授權條款第三版或者更新版本",
              "-D 為「default」指令自動完成變更選項"],
    "ko": ["아래 옵션은 어떤 요소의 갯수를 출력할 지 선택할 때 사용하며, 다음 순서를 따릅니다:",
           "GnuTLS: prio 문자열을 바로 설정할 수 없습니다. 기본 우선순위 설정으로 돌아갑니다.",
           "getopts는 보통 위치 매개변수를 해석하지만, <인자> 값처럼 인자를"],
}

CODE_PAGES = [
    ("cp1251", ["ru", "uk", "bg"]), ("koi8-r", ["ru", "bg"]), ("koi8-u", ["uk"]), ("cp866", ["ru", "bg"]),
    ("iso-8859-5", ["ru", "bg"]), ("cp1250", ["pl", "cs", "hu"]), ("iso-8859-2", ["pl", "cs", "hu"]),
    ("cp1252", ["de", "fr", "pt"]), ("latin-1", ["de", "fr", "pt"]), ("cp1253", ["el"]), ("cp1254", ["tr"]),
    ("shift_jis", ["ja"]), ("euc-jp", ["ja"]), ("gb18030", ["zh_CN"]), ("big5", ["zh_TW"]), ("euc-kr", ["ko"]),
]


@pytest.mark.parametrize("encoding, langs", CODE_PAGES, ids=[e for e, _ in CODE_PAGES])
def test_three_line_files_in_each_legacy_code_page_decode_exactly(encoding, langs):
    for lang in langs:
        text = "\n".join(SENTENCES[lang]) + "\n"
        data = text.encode(encoding)
        decoded = decode_bytes(data)
        assert decoded.text == text, (encoding, lang, decoded.encoding)
        assert decoded.issues == ()
        # the recorded name is a Python codec that reproduces the text
        assert data.decode(decoded.encoding) == text
        assert decoded.encoding == codecs.lookup(decoded.encoding).name


def test_the_encoding_is_named_as_python_spells_it():
    text = "\n".join(SENTENCES["ru"])
    assert decode_bytes(text.encode("koi8_r")).encoding == "koi8-r"
    assert decode_bytes(text.encode("cp1251")).encoding == "cp1251"
    assert decode_bytes(text.encode("cp866")).encoding == "cp866"


@pytest.mark.parametrize("encoding", ["cp1251", "koi8-r", "cp866", "iso-8859-5"])
def test_one_short_russian_line_is_decoded_by_language_evidence(encoding):
    assert decode_bytes(SEED_RUSSIAN.encode(encoding)).text == SEED_RUSSIAN


def test_utf8_is_decoded_as_is():
    text = "Protests in Kazakhstan.\n" + SEED_RUSSIAN + "\n"
    assert decode_bytes(text.encode("utf-8")) == Decoded(text, "utf-8", 1.0)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"])
def test_byte_order_marks_decide(encoding):
    text = "Protests in Kazakhstan.\n" + SEED_RUSSIAN + "\n"
    data = text.encode(encoding)
    if not encoding.endswith(("sig", "16", "32")):
        data = "\ufeff".encode(encoding) + data
    decoded = decode_bytes(data)
    assert decoded.text == text
    assert decoded.confidence == 1.0


def test_bomless_utf16_is_recognised():
    text = "Protests in Kazakhstan, all week.\n" + SEED_RUSSIAN + "\n"
    assert decode_bytes(text.encode("utf-16-le")).text == text


def test_broken_bytes_after_a_bom_are_replaced_and_reported():
    decoded = decode_bytes(codecs.BOM_UTF8 + b"Subscribe \xff\xfe now\n")
    assert decoded.text == "Subscribe \ufffd\ufffd now\n"
    assert "decode-replaced-bytes" in decoded.issues


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "hello")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data, what",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "PNG"),
        (_zip_bytes(), "ZIP"),
        (gzip.compress(b"hello world" * 10), "gzip"),
        (b"\x00\x01\x02\x03\x04binary\x00\x00\xff\xfe\x00" * 20, "NUL"),
        (bytes(range(1, 32)) * 10 + b"\xff", "control"),
    ],
)
def test_binary_data_is_refused_with_a_clear_message(data, what):
    with pytest.raises(NotTextError, match=what):
        decode_bytes(data)


def test_empty_input_is_empty_text():
    assert decode_bytes(b"").text == ""


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")))
def test_any_utf8_text_comes_back_unchanged(text):
    # (NUL bytes are a sign of binary data or BOM-less UTF-16, tested above)
    assert decode_bytes(text.encode("utf-8")).text == text


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_give_text_or_a_clear_refusal(data):
    try:
        decoded = decode_bytes(data)
    except NotTextError as error:
        assert str(error)
    else:
        assert isinstance(decoded.text, str)
        assert 0.0 <= decoded.confidence <= 1.0
        if "decode-replaced-bytes" not in decoded.issues:
            assert data.decode(decoded.encoding) == decoded.text
