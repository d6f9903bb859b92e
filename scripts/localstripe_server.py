"""Run localstripe (a Stripe API emulator) on the loopback interface only, without its disk dump.

localstripe itself binds every interface and pickles its state to a fixed file in /tmp; this
wrapper replaces both, so several copies (tests, the demo) can run side by side.

    python scripts/localstripe_server.py [--port 8420] [--state-file PATH]

Used by `make run` when no real Stripe keys are configured, and by the integration tests.
"""
from __future__ import annotations

import argparse
import os


def patch_localstripe(state_file: str = "") -> None:
    """No dump to /tmp/localstripe.pickle; with `state_file`, the store is kept in that file
    instead (loaded at start, written at each change and at exit), so that a test can stop
    localstripe and start it again with the same customers, cards and payments."""
    import pickle

    import localstripe.resources as resources
    import localstripe.webhooks as webhooks

    def dump(self, *args, **kwargs):
        if state_file:
            with open(state_file + ".tmp", "wb") as f:
                pickle.dump({"store": dict(self), "webhooks": webhooks._webhooks}, f,
                            protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(state_file + ".tmp", state_file)

    def load(self, *args, **kwargs):
        if state_file and os.path.exists(state_file):
            with open(state_file, "rb") as f:
                saved = pickle.load(f)
            self.clear()
            self.update(saved["store"])
            webhooks._webhooks.update(saved["webhooks"])

    resources.Store.dump_to_disk = dump
    resources.Store.try_load_from_disk = load


def serve(port: int, host: str = "127.0.0.1", state_file: str = "") -> None:
    patch_localstripe(state_file)
    from aiohttp import web
    from localstripe.resources import store
    from localstripe.server import app

    store.try_load_from_disk()

    async def keep_state(_app):  # objects changed in place since the last write
        store.dump_to_disk()

    app.on_shutdown.append(keep_state)
    web.run_app(app, host=host, port=port, print=None, access_log=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--state-file", default="",
                        help="keep the emulator's data in this file across restarts")
    args = parser.parse_args()
    serve(args.port, state_file=args.state_file)


if __name__ == "__main__":
    main()
