"""Backup and restore of the database and the data folder."""
from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path


def register(subparsers) -> None:
    cmd = subparsers.add_parser("backup", help="write the database and data files to a .tar.gz")
    cmd.add_argument("destination", type=Path, nargs="?",
                     help="file to write (default: rxportal-backup-<time>.tar.gz here)")
    cmd.set_defaults(handler=backup)
    cmd = subparsers.add_parser("restore", help="restore a backup made by `rxportal backup`")
    cmd.add_argument("archive", type=Path)
    cmd.set_defaults(handler=restore)


def backup(args: argparse.Namespace) -> int:
    from rxportal.services import backup as backups

    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = backups.create(args.destination or Path(f"rxportal-backup-{stamp}.tar.gz"))
    print(f"backup written to {path}")
    return 0


def restore(args: argparse.Namespace) -> int:
    from rxportal.services import backup as backups

    kind = backups.restore(args.archive)
    print(f"restored the {kind} database and data files from {args.archive}")
    return 0
