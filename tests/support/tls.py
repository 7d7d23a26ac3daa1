"""A throwaway certificate authority, and a TLS front for a plain Temporal dev server.

The Temporal CLI's dev server speaks only plain gRPC, so mutual TLS is tested through
a front that terminates TLS - requiring a client certificate signed by the test CA,
and offering HTTP/2 by ALPN as a gRPC server does - and relays the bytes to the dev
server on loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support.dev import free_port

SERVER_NAME = "temporal.pledge.test"


@dataclass
class Certificates:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    # Signed by a CA the server does not trust.
    stranger_cert: Path
    stranger_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _issue(
    subject: str,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    usage: x509.ObjectIdentifier | None,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    issuer_name, issuer_key = issuer or (_name(subject), key)
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=usage is None, path_length=None), critical=True)
    )
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        if usage == ExtendedKeyUsageOID.SERVER_AUTH:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName(SERVER_NAME), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
    return builder.sign(issuer_key, hashes.SHA256()), key


def _write(
    directory: Path, name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> tuple[Path, Path]:
    cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def make_certificates(directory: Path) -> Certificates:
    ca_cert, ca_key = _issue("Pledge test CA", None, None)
    ca = (ca_cert.subject, ca_key)
    ca_path, _ = _write(directory, "ca", ca_cert, ca_key)
    server = _write(directory, "server", *_issue(SERVER_NAME, ca, ExtendedKeyUsageOID.SERVER_AUTH))
    client = _write(
        directory, "client", *_issue("pledge-worker", ca, ExtendedKeyUsageOID.CLIENT_AUTH)
    )
    other_ca_cert, other_ca_key = _issue("Another CA", None, None)
    stranger = _write(
        directory,
        "stranger",
        *_issue("stranger", (other_ca_cert.subject, other_ca_key), ExtendedKeyUsageOID.CLIENT_AUTH),
    )
    return Certificates(ca_path, *server, *client, *stranger)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


@contextlib.asynccontextmanager
async def mutual_tls_front(certificates: Certificates, backend: str) -> AsyncIterator[str]:
    """Listen with mutual TLS on a free loopback port, relaying to `backend` (host:port);
    yields the front's address."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(certificates.ca))
    context.load_cert_chain(str(certificates.server_cert), str(certificates.server_key))
    context.verify_mode = ssl.CERT_REQUIRED
    context.set_alpn_protocols(["h2"])
    host, _, port = backend.rpartition(":")
    connections: set[asyncio.Task[None]] = set()

    async def relay(
        client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        server_reader, server_writer = await asyncio.open_connection(host, int(port))
        both = asyncio.gather(
            _pipe(client_reader, server_writer), _pipe(server_reader, client_writer)
        )
        await both

    def start(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.create_task(relay(reader, writer))
        connections.add(task)
        task.add_done_callback(connections.discard)

    front_port = free_port()
    server = await asyncio.start_server(start, "127.0.0.1", front_port, ssl=context)
    try:
        yield f"127.0.0.1:{front_port}"
    finally:
        server.close()
        for task in list(connections):
            task.cancel()
        await asyncio.gather(*connections, return_exceptions=True)
