"""How common each language is in text people feed us: the prior when a fragment has no context.

Rough shares of web content by language (rounded from W3Techs' published
content-language survey, order of magnitude is what matters).  Used tempered
(a small weight in log space, tuned in bench/langid/tune.py): it only breaks
near-ties such as a two-word string that is as plausible in Afrikaans as in
Dutch or English, and never outweighs real n-gram evidence.
"""

from __future__ import annotations

GLOBAL_PRIOR: dict[str, float] = {
    "en": 0.50, "es": 0.055, "de": 0.05, "ru": 0.045, "ja": 0.043, "fr": 0.043, "pt": 0.035,
    "tr": 0.023, "it": 0.022, "fa": 0.02, "nl": 0.02, "pl": 0.017, "zh": 0.014, "vi": 0.012,
    "cs": 0.009, "id": 0.008, "ko": 0.008, "uk": 0.007, "ar": 0.006, "el": 0.006, "sv": 0.006,
    "he": 0.005, "hu": 0.005, "ro": 0.005, "da": 0.004, "sk": 0.004, "fi": 0.004, "th": 0.003,
    "bg": 0.003, "no": 0.003, "hr": 0.002, "lt": 0.002, "ca": 0.002, "sl": 0.0015, "et": 0.001,
    "lv": 0.001, "hi": 0.001, "bn": 0.0005, "mk": 0.0005, "sq": 0.0005, "tl": 0.0005, "ur": 0.0005,
    "af": 0.0003, "sw": 0.0003, "ta": 0.0003, "te": 0.0003, "kn": 0.0003, "ml": 0.0003,
    "mr": 0.0003, "ne": 0.0003, "pa": 0.0003, "gu": 0.0003, "cy": 0.0002, "so": 0.0002,
}  # fmt: skip
