"""Output formats.  Each writer takes the fragment records (dicts, as in JSONL) and a text stream.

Writers are looked up by name and imported only when used (the HTML one is large).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from importlib import import_module

from polyglot_pipe.packs.store import install_command

__all__ = ["WRITERS", "get_writer", "Summary"]

#: format name -> "module:function"; function(records: Iterable[dict], out: TextIO, summary: Summary)
WRITERS = {
    "jsonl": "polyglot_pipe.io.writers.jsonl:write_jsonl",
    "html": "polyglot_pipe.io.writers.html:write_html",
    "md": "polyglot_pipe.io.writers.markdown:write_markdown",
    "tsv": "polyglot_pipe.io.writers.tsv:write_tsv",
    # the input page itself, translated in place; also takes pages= (doc id -> stages.html.Page)
    "html-page": "polyglot_pipe.io.writers.html_page:write_html_page",
}


def get_writer(name: str):
    module, attr = WRITERS[name].split(":")
    return getattr(import_module(module), attr)


@dataclass
class Summary:
    """Counts for the closing line on stderr and the report headers."""

    target: str = "en"
    documents: int = 0
    fragments: int = 0
    languages: Counter = field(default_factory=Counter)
    translated: int = 0
    cached: int = 0
    low_quality: int = 0  # translated, but marked quality "low": the pack was guessing
    no_pack: Counter = field(default_factory=Counter)
    failed: int = 0
    failed_inputs: int = 0
    signature: dict | None = None  # polyglot_pipe.provenance.run_signature of the run, for report headers

    @classmethod
    def of(cls, records, target: str = "en") -> "Summary":
        """The counts of ``records``, for a writer called without a run's summary."""
        summary = cls(target=target)
        for record in records:
            summary.add_record(record)
        return summary

    def add_record(self, record: dict) -> None:
        if self.signature is None and isinstance(record.get("run"), dict):
            self.signature = record["run"]  # a results file read back for review carries its run's signature
        if record.get("index") == 0:
            self.documents += 1
        if record.get("status") == "empty":
            return
        self.fragments += 1
        self.languages[record["lang"]] += 1
        method = record.get("method") or ""
        status = record.get("status")
        if status == "ok" and method.startswith("argos:"):
            self.translated += 1
            self.cached += bool(record.get("cached"))
            self.low_quality += record.get("quality") == "low"
        elif status == "no-pack":
            self.no_pack[record["lang"]] += 1
        elif status == "failed":
            self.failed += 1

    def line(self) -> str:
        langs = ", ".join(f"{lang} {n}" for lang, n in self.languages.most_common())
        parts = [
            f"{self.documents} document{'s' if self.documents != 1 else ''}",
            f"{self.fragments} fragments" + (f" ({langs})" if langs else ""),
            f"translated {self.translated}" + self._translated_notes(),
            f"no-pack {sum(self.no_pack.values())}",
            f"failed {self.failed}",
        ]
        if self.failed_inputs:
            parts.append(f"unreadable inputs {self.failed_inputs}")
        return "polyglot-pipe: " + ", ".join(parts)

    def _translated_notes(self) -> str:
        notes = []
        if self.cached:
            notes.append(f"{self.cached} from memory")
        if self.low_quality:
            notes.append(f"{self.low_quality} low quality")
        return f" ({', '.join(notes)})" if notes else ""

    def signature_line(self) -> str | None:
        """The run signature in its one-line form (polyglot_pipe.provenance), when known."""
        if not self.signature:
            return None
        from polyglot_pipe.provenance import signature_string

        try:
            return signature_string(self.signature)
        except (KeyError, TypeError, AttributeError):  # a hand-edited results file: show nothing rather than fail
            return None

    def missing_packs(self) -> dict[str, str]:
        """lang -> the command that installs its pack."""
        return {lang: install_command(lang, self.target) for lang in sorted(self.no_pack)}
