"""A real Dovecot IMAP server for tests: Debian's dovecot-imapd (installed by scripts/install_system_packages.sh),
on loopback, on a free port, with its own configuration in a temporary folder, a passwd-file
user database, plain-text login (loopback only) and Maildir storage.

It never runs as root: under root (containers, CI) it is started as `nobody` through setpriv,
otherwise as the current user. Stop it with `stop()`; nothing is left running.
"""
from __future__ import annotations

import imaplib
import os
import pwd
import grp
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DovecotServer:
    def __init__(self, user: str = "support@example.net", password: str = "imap-test-password"):
        self.user, self.password = user, password
        self.port = _free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="rxportal-dovecot-"))
        self.process: subprocess.Popen | None = None
        if os.geteuid() == 0:
            self.run_as = pwd.getpwnam("nobody")
            self.group = grp.getgrgid(self.run_as.pw_gid).gr_name
        else:
            self.run_as = pwd.getpwuid(os.geteuid())
            self.group = grp.getgrgid(os.getegid()).gr_name

    def _config(self) -> str:
        d, user, group, uid = self.dir, self.run_as.pw_name, self.group, self.run_as.pw_uid
        return f"""
base_dir = {d}/run
state_dir = {d}/state
instance_name = rxportal-test-{self.port}
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = {d}/dovecot.log
default_login_user = {user}
default_internal_user = {user}
default_internal_group = {group}
first_valid_uid = {min(uid, 100) if uid else 0}
first_valid_gid = 0
mail_location = maildir:{d}/mail/%u
mail_max_userip_connections = 50
imap_max_line_length = 64k
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {d}/users
  default_fields = uid={user} gid={group} home={d}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  chroot =
}}
"""

    def start(self) -> "DovecotServer":
        if not os.path.exists(DOVECOT):
            raise RuntimeError("dovecot is not installed: run scripts/install_system_packages.sh")
        for sub in ("run", "state", "mail"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        (self.dir / "dovecot.conf").write_text(self._config())
        (self.dir / "users").write_text(f"{self.user}:{{PLAIN}}{self.password}::::::\n")
        command = [DOVECOT, "-F", "-c", str(self.dir / "dovecot.conf")]
        if os.geteuid() == 0:
            for path in [self.dir, *self.dir.rglob("*")]:
                os.chown(path, self.run_as.pw_uid, self.run_as.pw_gid)
            command = ["setpriv", f"--reuid={self.run_as.pw_uid}",
                       f"--regid={self.run_as.pw_gid}", "--clear-groups", *command]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("dovecot did not start: "
                                   + self.process.stderr.read().decode(errors="replace")
                                   + self.log())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("dovecot did not listen in time: " + self.log())

    def log(self) -> str:
        path = self.dir / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self.process = None
        self._kill_leftover_master()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _kill_leftover_master(self) -> None:
        """Should the master outlive its process group's signal, end it by its pid file,
        after checking that the pid is still this instance's Dovecot."""
        pid_file = self.dir / "run" / "master.pid"
        try:
            pid = int(pid_file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return
        if str(self.dir / "dovecot.conf").encode() in cmdline:
            os.kill(pid, signal.SIGKILL)

    def client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        client.login(self.user, self.password)
        return client

    def deliver(self, raw: bytes, folder: str = "INBOX") -> None:
        """Put a mail into the mailbox, as the ISP's mail server would."""
        client = self.client()
        try:
            typ, data = client.append(folder, None, None, raw.replace(b"\r\n", b"\n")
                                      .replace(b"\n", b"\r\n"))
            assert typ == "OK", data
        finally:
            client.logout()

    def deliver_plain(self, subject: str) -> None:
        """Put a short plain-text mail with this subject into the inbox."""
        self.deliver(f"From: a@example.net\r\nTo: {self.user}\r\nSubject: {subject}\r\n"
                     "\r\nhello\r\n".encode())

    def count(self, folder: str = "INBOX") -> int:
        client = self.client()
        try:
            typ, data = client.select(folder, readonly=True)
            return int(data[0])
        finally:
            client.logout()

    def settings(self) -> dict:
        """The ISP settings that point rxportal at this server."""
        return {"imap_host": "127.0.0.1", "imap_port": self.port, "imap_user": self.user,
                "imap_password": self.password, "imap_folder": "INBOX", "imap_tls": "none"}
