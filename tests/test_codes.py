"""Language codes between our labels and Argos's packs, --to checked, and the direct
``polyglot_pipe.translate`` call (real packs: the committed ru->en, and a real model filed as nb)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import polyglot_pipe
from polyglot_pipe import Pipeline
from polyglot_pipe.errors import OptionError, PackError
from polyglot_pipe.packs.store import find_pack, install_pack_file
from conftest import build_dummy_pack

NORWEGIAN = "Filen kunne ikke åpnes fordi den ikke finnes på disken.\n"


def test_a_norwegian_fragment_finds_an_nb_pack(tmp_path):
    packs = tmp_path / "packs"
    install_pack_file(build_dummy_pack(tmp_path, "nb", "en"), packs)
    assert find_pack("no", "en", packs).from_code == "nb"
    doc = Pipeline(packs_dir=packs, langs=["en", "no"], memory=None).process(NORWEGIAN)
    [fragment] = [f for f in doc.fragments if f.lang == "no"]
    assert fragment.status == "ok" and fragment.method.startswith("argos:nb-en@")


def test_to_is_normalised_and_a_bad_code_is_one_line_naming_it(tmp_path, ru_packs_dir):
    source = tmp_path / "a.txt"
    source.write_text("Не удалось открыть файл.\n", encoding="utf-8")
    run = [sys.executable, "-m", "polyglot_pipe", "run", str(source), "--packs-dir", str(ru_packs_dir), "--no-memory"]
    upper = subprocess.run([*run, "--to", "EN"], capture_output=True, text=True, timeout=300)
    assert upper.returncode == 0 and '"status": "ok"' in upper.stdout and "argos:ru-en" in upper.stdout
    bad = subprocess.run([*run, "--to", "english please"], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and bad.stderr.strip().splitlines() == [
        "polyglot-pipe: --to 'english please': not a language code (e.g. en, ru, pt-br)"
    ]
    with pytest.raises(OptionError, match="'e n'"):
        Pipeline(target="e n")


def test_translate_gives_the_rendering_with_its_method_score_and_quality(ru_packs_dir):
    rendering = polyglot_pipe.translate("Не удалось открыть файл.", source="RU", target="en", packs_dir=ru_packs_dir)
    assert rendering.source == "ru" and rendering.target == "en"
    assert rendering.method.startswith("argos:ru-en@")
    assert rendering.text and rendering.text != "Не удалось открыть файл."
    assert rendering.translation_score < 0 and rendering.quality in ("ok", "low")
    with pytest.raises(PackError, match="no de->en pack"):
        polyglot_pipe.translate("Hallo Welt", source="de", packs_dir=ru_packs_dir)
