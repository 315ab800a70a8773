"""`polyglot-pipe packs list|install|remove|available|update-index|build`: manage language packs.

Exit status: 0 when everything asked for was done, 1 when any part failed
(each failure is one line on stderr), 2 for a command line argparse rejects.
Tables are drawn with rich on a terminal and written tab-separated otherwise,
so scripts can ``cut -f``.
"""

from __future__ import annotations

import argparse
import sys

from polyglot_pipe.packs.install import install
from polyglot_pipe.packs.store import (
    Pack,
    PackError,
    installed_packs,
    packages_dir,
    remove_packs,
    unreadable_packs,
)

PROG = "polyglot-pipe"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _add_common(parser, None)
    commands = parser.add_subparsers(dest="packs_command", metavar="ACTION")
    commands.required = True

    listing = commands.add_parser("list", help="installed packs: from->to, version, size, sha256, path")
    _add_common(listing, argparse.SUPPRESS)
    listing.set_defaults(func=run_list)

    install = commands.add_parser(
        "install",
        help="install packs from .argosmodel files, folders of them, URLs, or language codes (via the index)",
        description="Each SOURCE is an .argosmodel file, a folder of them (e.g. language_packs/), an http(s) URL, "
        "or a language code resolved through the package index: ru (ru->en, or --to), ru-en, ru_en.",
    )
    install.add_argument("sources", nargs="+", metavar="SOURCE")
    install.add_argument("--to", dest="to_code", metavar="LANG", help="target language for bare codes (default: en)")
    _add_common(install, argparse.SUPPRESS)
    install.set_defaults(func=run_install)

    remove = commands.add_parser("remove", help="remove installed packs: a pair (ru-en), a source code (ru), or a pack folder")
    remove.add_argument("specs", nargs="+", metavar="FROM-TO|PATH")
    _add_common(remove, argparse.SUPPRESS)
    remove.set_defaults(func=run_remove)

    available = commands.add_parser("available", help="packs the (cached) index offers")
    available.add_argument("codes", nargs="*", metavar="LANG", help="only pairs with one of these languages")
    _add_common(available, argparse.SUPPRESS)
    available.set_defaults(func=run_available)

    update = commands.add_parser("update-index", help="download the package index and cache it")
    _add_common(update, argparse.SUPPRESS)
    update.set_defaults(func=run_update_index)

    from polyglot_pipe.cli import build as packbuild

    build = commands.add_parser("build", help="train a small genuine pack from a parallel corpus (needs the [build] extra)")
    packbuild.add_arguments(build)
    build.set_defaults(func=packbuild.run)


def _add_common(parser: argparse.ArgumentParser, default) -> None:
    """Options accepted both before and after the action (``packs --packs-dir D list`` and ``packs list --packs-dir D``).

    On the actions they default to SUPPRESS, so an absent option there doesn't
    overwrite one given before the action.
    """
    parser.add_argument(
        "--packs-dir", metavar="DIR", default=default, help="installed packs (default: $ARGOS_PACKAGES_DIR or argostranslate's)"
    )
    parser.add_argument(
        "--index",
        dest="index_url",
        metavar="URL",
        default=default,
        help="package index: a folder URL holding index.json, or the .json itself (default: $ARGOS_PACKAGE_INDEX or argostranslate's)",
    )
    parser.add_argument(
        "--timeout", type=float, metavar="SECONDS", default=default, help="network timeout per connection or read (default: 30)"
    )


def _say(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def _table(columns: list[str], rows: list[list[str]], title: str | None = None) -> None:
    """A rich table on a terminal; tab-separated lines (no header) otherwise."""
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title, title_justify="left")
        for column in columns:
            table.add_column(column, overflow="fold", no_wrap=column != "path")
        for row in rows:
            table.add_row(*row)
        Console().print(table)
    else:
        for row in rows:
            print("\t".join(row))


def run_list(args: argparse.Namespace) -> int:
    root = packages_dir(args.packs_dir)
    packs = installed_packs(root)
    for path, why in unreadable_packs(root):
        _say(f"{path}: not a usable pack ({why})")
    if not packs:
        _say(f"no packs installed in {root}")
        return 0
    terminal = sys.stdout.isatty()
    rows = [
        [
            f"{p.from_code}->{p.to_code}",
            p.version,
            _size(p.size),
            (p.sha256[:12] if terminal else p.sha256) if p.sha256 else "-",
            str(p.path),
        ]
        for p in packs
    ]
    _table(["from->to", "version", "size", "sha256", "path"], rows, title=f"packs in {root}")
    return 0


def run_install(args: argparse.Namespace) -> int:
    failures = 0
    progress = sys.stderr.isatty()
    for source in args.sources:
        try:
            for origin, pack in install(
                source, args.packs_dir, to_code=args.to_code, index_url=args.index_url,
                timeout=args.timeout, progress=progress, say=_say,
            ):
                print(f"installed {pack.from_code}->{pack.to_code} {pack.version} from {origin} into {pack.path}")
        except (PackError, OSError) as exc:
            _say(str(exc))
            failures += 1
    return 1 if failures else 0


def run_remove(args: argparse.Namespace) -> int:
    failures = 0
    for spec in args.specs:
        try:
            removed = remove_packs(spec, args.packs_dir)
        except (PackError, OSError) as exc:
            _say(str(exc))
            failures += 1
            continue
        if not removed:
            _say(f"{spec}: no such pack installed in {packages_dir(args.packs_dir)}")
            failures += 1
        for pack in removed:
            print(f"removed {pack.from_code}->{pack.to_code} {pack.version} ({pack.path})")
    return 1 if failures else 0


def run_available(args: argparse.Namespace) -> int:
    from polyglot_pipe.packs import index as pack_index

    url = pack_index.index_url(args.index_url)
    try:
        entries = pack_index.cached_index(url)
    except PackError as exc:
        _say(f"{exc}; run: {PROG} packs update-index")
        return 1
    if entries is None:
        _say(f"no cached index for {url}; run: {PROG} packs update-index")
        return 1
    wanted = {code.lower() for code in args.codes}
    if wanted:
        entries = [e for e in entries if e.from_code in wanted or e.to_code in wanted]
    installed = {(p.from_code, p.to_code): p for p in installed_packs(args.packs_dir)}
    rows = []
    for e in sorted(entries, key=lambda e: (e.from_code, e.to_code)):
        have: Pack | None = installed.get((e.from_code, e.to_code))
        rows.append(
            [
                f"{e.from_code}->{e.to_code}",
                e.version,
                f"{e.from_name} → {e.to_name}",
                _size(e.size) if e.size is not None else "-",
                have.version if have else "-",
            ]
        )
    if not rows:
        _say(f"the index at {url} offers no packs" + (f" for {', '.join(sorted(wanted))}" if wanted else ""))
        return 0
    _table(["from->to", "version", "languages", "size", "installed"], rows, title=f"packs in {url}")
    return 0


def run_update_index(args: argparse.Namespace) -> int:
    from polyglot_pipe.packs import index as pack_index

    try:
        entries, path = pack_index.update_index(
            args.index_url, timeout=pack_index.DEFAULT_TIMEOUT if args.timeout is None else args.timeout
        )
    except (PackError, OSError) as exc:
        _say(str(exc))
        return 1
    print(f"{len(entries)} packs in {pack_index.index_url(args.index_url)}; cached in {path}")
    return 0
