"""HTTPS for `parlez run` (Rasa's `--ssl-certificate`, `--ssl-keyfile`, `--ssl-ca-file`,
`--ssl-password`): the server's certificate and key, read before anything else starts so
that a wrong file is told at once, not after minutes of training."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from parlez.exceptions import Location, ParlezError


class TlsError(ParlezError):
    code = "P332"


@dataclass(frozen=True)
class TlsFiles:
    certificate: Path
    keyfile: Path | None = None
    #: the certificate authorities a client's certificate is checked against, if any
    ca_file: Path | None = None
    #: the key's passphrase, when it has one (`$PARLEZ_SSL_PASSWORD` on the command line)
    password: str | None = None

    def context(self) -> ssl.SSLContext:
        """The server's TLS context; a file that is missing or not what it should be is a
        TlsError naming it (never the password)."""
        for path in (self.certificate, self.keyfile, self.ca_file):
            if path is not None and not path.is_file():
                raise TlsError(
                    "there is no such file", Location(str(path)), hint="give the file's path"
                )
        try:
            context = ssl.create_default_context(
                ssl.Purpose.CLIENT_AUTH, cafile=str(self.ca_file) if self.ca_file else None
            )
        except ssl.SSLError as error:
            raise TlsError(
                f"the certificate authorities cannot be read ({error.reason or error})",
                Location(str(self.ca_file)),
            ) from error
        try:
            context.load_cert_chain(
                str(self.certificate), str(self.keyfile) if self.keyfile else None, self.password
            )
        except ssl.SSLError as error:
            raise TlsError(
                f"the certificate and key cannot be used ({error.reason or error})",
                Location(str(self.certificate)),
                hint="a PEM certificate and its private key (--ssl-keyfile, or in the same "
                "file), and --ssl-password when the key is encrypted",
            ) from error
        return context
