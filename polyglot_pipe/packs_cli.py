"""`polyglot-pipe packs list|install|build`: manage the installed language packs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .packs import PackError, install_pack_file, installed_packs, packages_dir

PROG = "polyglot-pipe"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--packs-dir", metavar="DIR", help="installed packs (default: $ARGOS_PACKAGES_DIR or argostranslate's)")
    commands = parser.add_subparsers(dest="packs_command", metavar="ACTION")
    commands.required = True

    listing = commands.add_parser("list", help="installed packs")
    listing.set_defaults(func=run_list)

    install = commands.add_parser("install", help="install .argosmodel files or folders of them")
    install.add_argument("sources", nargs="+", metavar="PATH")
    install.set_defaults(func=run_install)

    from . import packbuild

    build = commands.add_parser("build", help="train a small genuine pack from a parallel corpus (needs the [build] extra)")
    packbuild.add_arguments(build)
    build.set_defaults(func=packbuild.run)


def run_list(args: argparse.Namespace) -> int:
    packs = installed_packs(args.packs_dir)
    if not packs:
        print(f"no packs installed in {packages_dir(args.packs_dir)}")
        return 0
    for pack in packs:
        print(f"{pack.from_code}->{pack.to_code}\t{pack.version}\t{pack.size / 1e6:.1f} MB\t{pack.sha256 or '-'}\t{pack.path}")
    return 0


def run_install(args: argparse.Namespace) -> int:
    failures = 0
    for source in args.sources:
        path = Path(source)
        files = sorted(path.glob("*.argosmodel")) if path.is_dir() else [path]
        if path.is_dir() and not files:
            print(f"{PROG}: {path}: no .argosmodel files in this folder", file=sys.stderr)
            failures += 1
        for file in files:
            try:
                pack = install_pack_file(file, args.packs_dir)
            except (PackError, OSError) as exc:
                print(f"{PROG}: {exc}", file=sys.stderr)
                failures += 1
                continue
            print(f"installed {pack.from_code}->{pack.to_code} {pack.version} from {file} into {pack.path}")
    return 1 if failures else 0
