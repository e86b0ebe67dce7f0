"""A local SMTP server for the notification tests (Debian's python3-aiosmtpd): it offers STARTTLS
with a certificate of its own test CA (so the server under test checks it against that CA's file),
records whether each mail came over TLS, and keeps every mail. stop() and start() again on the same
port simulate a mail server that was down."""

import email
import email.policy
import ssl
import subprocess
import threading
from pathlib import Path

from aiosmtpd.controller import Controller


def make_certificate(workdir):
    """A CA and a certificate for 127.0.0.1 signed by it; returns (ca.pem, cert.pem, key.pem)."""
    d = Path(workdir)
    run = lambda *a: subprocess.run(["openssl", *a], cwd=d, check=True, capture_output=True)
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Waitroom Mail Test CA")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "mail.key", "-out", "mail.csr", "-subj", "/CN=127.0.0.1")
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "mail.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-days", "2", "-extfile", "ext.cnf", "-out", "mail.pem")
    return d / "ca.pem", d / "mail.pem", d / "mail.key"


class Mail:
    def __init__(self, envelope, tls):
        self.mail_from = envelope.mail_from
        self.rcpt_tos = list(envelope.rcpt_tos)
        self.raw = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        self.tls = tls
        self.message = email.message_from_bytes(self.raw, policy=email.policy.default)

    @property
    def subject(self):
        return str(self.message["Subject"])

    def text(self):
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part else ""

    def html(self):
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content() if part else ""


class MailSink:
    def __init__(self, port, workdir, starttls=True):
        self.port = port
        self.mails = []
        self.lock = threading.Lock()
        self.starttls = starttls
        self.ca, cert, key = make_certificate(workdir)
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(cert, key)
        self.controller = None

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.mails.append(Mail(envelope, session.ssl is not None))
        return "250 OK"

    def start(self):
        kw = {"tls_context": self.context, "require_starttls": True} if self.starttls else {}
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **kw)
        self.controller.start()
        return self

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None

    def received(self):
        with self.lock:
            return list(self.mails)

    def config(self):
        """The [smtp] table for a server that sends here."""
        return (f'[smtp]\nhost = "127.0.0.1"\nport = {self.port}\n'
                f'starttls = "{"required" if self.starttls else "off"}"\n'
                f'from = "Waitroom Test <queue@example.test>"\nca_file = "{self.ca}"\n'
                'timeout_ms = 3000\n')
