"""`polyglot-pipe serve`: argparse front end of polyglot_pipe.serve (Starlette + uvicorn, the [serve] extra)."""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_arguments", "run_serve"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=5000, help="port (default: 5000, as LibreTranslate; 0 picks a free one)")
    parser.add_argument("--packs-dir", metavar="DIR", help="installed packs (default: $ARGOS_PACKAGES_DIR or argostranslate's)")
    parser.add_argument("--no-memory", action="store_true", help="neither read nor fill the translation memory")
    parser.add_argument("--memory-path", metavar="FILE", help="the translation memory's SQLite file (default: in the user cache)")
    parser.add_argument("--char-limit", type=int, default=50_000, help="characters per request, -1 for no limit (default: 50000)")
    parser.add_argument("--batch-limit", type=int, default=128, help="texts in one q list, -1 for no limit (default: 128)")
    parser.add_argument("--max-body", type=int, default=2 << 20, metavar="BYTES", help="bytes per request body (default: 2 MiB)")
    parser.add_argument("--timeout", type=float, default=60.0, metavar="S", help="seconds a request may wait for its answer (default: 60)")
    parser.add_argument("--max-queue", type=int, default=512, help="requests waiting at most; more get 429 (default: 512)")
    parser.add_argument("--beam-size", type=int, default=4, help="beam search width (default: 4)")
    parser.add_argument("--threads", type=int, default=0, help="CTranslate2 threads (default: up to 4)")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto", help="where CTranslate2 runs")


def run_serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from polyglot_pipe.serve.app import Settings, create_app
    except ImportError as exc:
        print(f"polyglot-pipe: serve needs the [serve] extra ({exc.name} is missing): pip install 'polyglot_pipe[serve]'", file=sys.stderr)
        return 2
    memory = None
    if not args.no_memory:
        from polyglot_pipe.memory import TranslationMemory

        memory = TranslationMemory(args.memory_path)
    settings = Settings(
        packs_dir=args.packs_dir, memory=memory, char_limit=args.char_limit, batch_limit=args.batch_limit,
        max_body=args.max_body, timeout=args.timeout, max_queue=args.max_queue, beam_size=args.beam_size,
        threads=args.threads, device=args.device,
    )  # fmt: skip
    config = uvicorn.Config(create_app(settings), host=args.host, port=args.port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    print(f"polyglot-pipe: serving on http://{args.host}:{args.port} (Ctrl-C stops)", file=sys.stderr, flush=True)
    server.run()
    return 0
