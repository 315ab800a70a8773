"""polyglot_pipe: decode, repair, segment, label and translate multilingual text, offline.

    >>> import polyglot_pipe
    >>> doc = polyglot_pipe.process("Subscribe\\nЗаголовок открываемого материала")
    >>> [(f.original, f.lang) for f in doc.fragments]
    [('Subscribe', 'en'), ('Заголовок открываемого материала', 'ru')]
"""

from importlib.metadata import PackageNotFoundError, version

from polyglot_pipe.model import Document, Edit, Fragment, Rendering
from polyglot_pipe.pipeline import Pipeline, process, translate

try:
    __version__ = version("polyglot_pipe")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0+unknown"

__all__ = ["Document", "Edit", "Fragment", "Pipeline", "Rendering", "process", "translate", "__version__"]
