"""`parlez run --ssl-certificate --ssl-keyfile`: HTTPS, as Rasa serves it; a certificate
that cannot be used is told before anything starts, naming the file."""

from __future__ import annotations

import datetime
import ipaddress
import shutil
import ssl
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from parlez.cli.main import main
from parlez.server.tls import TlsError, TlsFiles
from tests.server.process import parlez_run


def self_signed(folder: Path, password: bytes | None = None) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by its own key, and the key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "server.crt", folder / "server.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def test_the_server_answers_over_https(
    small_project: Path, small_model: Path, tmp_path: Path
) -> None:
    project = Path(shutil.copytree(small_project, tmp_path / "project"))
    cert, key = self_signed(tmp_path)
    with parlez_run(project, "--ssl-certificate", str(cert), "--ssl-keyfile", str(key)) as server:
        assert f"at https://127.0.0.1:{server.port}" in server.log
        reply = httpx.post(
            f"https://127.0.0.1:{server.port}/webhooks/rest/webhook",
            json={"sender": "s1", "message": "hello"},
            verify=ssl.create_default_context(cafile=str(cert)),
            timeout=60,
        )
        assert reply.status_code == 200 and reply.json()[0]["text"]
        with pytest.raises(httpx.HTTPError):  # plain HTTP is not served on that port
            httpx.get(f"http://127.0.0.1:{server.port}/", timeout=10).raise_for_status()


def test_an_encrypted_key_opens_with_its_password(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path, password=b"open sesame")
    assert TlsFiles(cert, key, password="open sesame").context() is not None
    with pytest.raises(TlsError, match="cannot be used") as refused:
        TlsFiles(cert, key, password="wrong").context()
    assert "open sesame" not in str(refused.value) and "wrong" not in refused.value.message


def test_a_missing_or_wrong_file_is_named(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    with pytest.raises(TlsError, match="no such file") as missing:
        TlsFiles(cert, tmp_path / "nowhere.key").context()
    assert "nowhere.key" in str(missing.value.where)
    not_a_cert = tmp_path / "notes.txt"
    not_a_cert.write_text("hello")
    with pytest.raises(TlsError, match="cannot be used") as wrong:
        TlsFiles(not_a_cert, key).context()
    assert "notes.txt" in str(wrong.value.where)


def test_a_key_without_a_certificate_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--ssl-keyfile", "server.key"]) == 1
    assert "P332" in capsys.readouterr().err
