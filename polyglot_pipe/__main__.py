import sys

from polyglot_pipe.cli.main import main

sys.exit(main())
