"""A real Dovecot IMAP server on loopback for tests (Debian's dovecot-imapd), one per test."""
from __future__ import annotations

import imaplib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

DOVECOT = "/usr/sbin/dovecot"
MAIL_UID = 65534  # nobody: Dovecot refuses to run mail processes as root

CONFIG = """
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = {uid}
mail_location = maildir:{root}/mail/%n
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={uid} home={root}/home/%n
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


class Dovecot:
    def __init__(self, port: int, user: str, password: str):
        self.port, self.user, self.password = port, user, password
        self.root = Path(tempfile.mkdtemp(prefix="rxportal-staff-dovecot-"))

    def start(self) -> "Dovecot":
        self.root.chmod(0o755)
        for folder in ("mail", "home"):
            (self.root / folder).mkdir()
            os.chown(self.root / folder, MAIL_UID, MAIL_UID)
        (self.root / "users").write_text(f"{self.user}:{{PLAIN}}{self.password}\n")
        (self.root / "dovecot.conf").write_text(
            CONFIG.format(root=self.root, port=self.port, uid=MAIL_UID))
        # Dovecot forks into the background: its output goes to the log file, not to pipes
        # (which the daemon would keep open).
        subprocess.run([DOVECOT, "-c", str(self.root / "dovecot.conf")], check=True,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=20)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                imaplib.IMAP4("127.0.0.1", self.port, timeout=2).logout()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("dovecot did not start: " + self.log())

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text() if path.exists() else ""

    def deliver(self, subject: str) -> None:
        client = imaplib.IMAP4("127.0.0.1", self.port)
        client.login(self.user, self.password)
        message = f"From: a@example.net\r\nTo: {self.user}\r\nSubject: {subject}\r\n\r\nhello\r\n"
        client.append("INBOX", None, None, message.encode())
        client.logout()

    def stop(self) -> None:
        pid_file = self.root / "run" / "master.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().split()[0])
            os.kill(pid, signal.SIGTERM)
            deadline = time.time() + 5
            while time.time() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
        shutil.rmtree(self.root, ignore_errors=True)
