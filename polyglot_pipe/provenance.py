"""The run signature: what produced a set of records, as sacrebleu prints what produced a score.

Two runs with the same signature on the same input give the same records, so the
signature is written where the records go (the first JSONL record of each output,
the HTML and Markdown report headers), printed by ``polyglot-pipe --version --verbose``,
and is what "up to date" compares.  It names:

- the polyglot_pipe version;
- each installed pack that renders into the target: id@version and sha256;
- the decoding settings (beam size, length limits: what the translation memory keys on);
- the label settings (candidate languages, and the identifier's tuned constants).

``signature_string`` is the one-line form: ``polyglot_pipe:0.1.0|to:en|packs:ru-en@1.0#1a2b3c4d,...|decode:beam=4|labels:...``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["version", "run_signature", "signature_string", "signature_digest"]


def version() -> str:
    """The installed polyglot_pipe version ("0+unknown" when run from a bare checkout)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("polyglot_pipe")
    except PackageNotFoundError:
        return "0+unknown"


def label_settings(identifier=None) -> dict[str, Any]:
    """The settings that change a label: candidate languages and the identifier's tuned constants."""
    from polyglot_pipe.stages import identify

    settings = getattr(identify, "TUNED_SETTINGS", None)
    if settings is None:  # the constants bench/langid/tune.py sets
        settings = {
            name: getattr(identify, name)
            for name in ("PRIOR_WEIGHT", "PRIOR_FLOOR", "GLOBAL_PRIOR_WEIGHT", "SWITCH_COST", "SAME_SCRIPT_SWITCH_COST", "BORROW_PER_LETTER", "NAME_BORROW_SHARE")
            if hasattr(identify, name)
        }
    langs = getattr(identifier, "langs", None)
    return {"langs": sorted(langs) if langs else "all", **{k.lower(): v for k, v in settings.items()}}


def run_signature(
    pipeline=None, *, packs_dir=None, target: str = "en", translate: bool = True, decoding: str = "beam=4", langs=None
) -> dict[str, Any]:
    """The signature of ``pipeline`` (a Pipeline), or of the defaults and the packs installed in ``packs_dir``."""
    from polyglot_pipe.packs.store import installed_packs

    if pipeline is not None:
        target = pipeline.target
        translator = pipeline.translator
        translate = translator is not None
        packs_dir = translator.packs_dir if translator is not None else packs_dir
        decoding = translator.decoding if translator is not None else None
        labels = label_settings(pipeline.identifier)
    else:
        decoding = decoding if translate else None
        labels = label_settings(_Langs(langs))
    packs = []
    if translate:
        for pack in installed_packs(packs_dir):
            if pack.to_code == target:
                packs.append({"id": pack.id, "sha256": pack.sha256})
    return {
        "polyglot_pipe": version(),
        "target": target,
        "translate": translate,
        "packs": sorted(packs, key=lambda p: p["id"]),
        "decoding": decoding,
        "labels": labels,
    }


def signature_string(signature: dict[str, Any]) -> str:
    """The one-line form, for logs and report headers."""
    packs = ",".join(
        f"{p['id'].removeprefix('argos:')}#{(p['sha256'] or 'unknown')[:8]}" for p in signature["packs"]
    ) or "none"
    labels = ",".join(f"{k}={v}" for k, v in signature["labels"].items())
    parts = [
        f"polyglot_pipe:{signature['polyglot_pipe']}",
        f"to:{signature['target']}",
        f"packs:{packs}" if signature["translate"] else "translate:no",
    ]
    if signature["decoding"]:
        parts.append(f"decode:{signature['decoding']}")
    parts.append(f"labels:{labels}")
    return "|".join(parts)


def signature_digest(signature: dict[str, Any]) -> str:
    """A short stable hash of the signature: equal digests, equal settings."""
    blob = json.dumps(signature, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]


class _Langs:
    """Stands in for an identifier where only the candidate languages are known."""

    def __init__(self, langs):
        self.langs = langs
