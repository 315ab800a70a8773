"""The old import path of polyglot_pipe.integrations.ray (``polyglot_pipe.ray.process_dataset``),
kept so that code written against it still runs."""

from polyglot_pipe.integrations.ray import *  # noqa: F401,F403
from polyglot_pipe.integrations.ray import __all__  # noqa: F401
