"""Run localstripe (a Stripe API emulator) on the loopback interface only, without its disk dump.

localstripe itself binds every interface and pickles its state to a fixed file in /tmp; this
wrapper replaces both, so several copies (tests, the demo) can run side by side.

    python scripts/localstripe_server.py [--port 8420]

Used by `make run` when no real Stripe keys are configured, and by the integration tests.
"""
from __future__ import annotations

import argparse


def patch_localstripe() -> None:
    import localstripe.resources as resources

    resources.Store.dump_to_disk = lambda self, *a, **k: None
    resources.Store.try_load_from_disk = lambda self, *a, **k: None


def serve(port: int, host: str = "127.0.0.1") -> None:
    patch_localstripe()
    from aiohttp import web
    from localstripe.server import app

    web.run_app(app, host=host, port=port, print=None, access_log=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8420)
    args = parser.parse_args()
    serve(args.port)


if __name__ == "__main__":
    main()
