"""What the client and the worker share: server URLs and leader hints, TLS, the API key,
channel options, and the reconnect backoff."""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass
from typing import Any, Iterable, Sequence, Union
from urllib.parse import urlsplit

import grpc

DEFAULT_SERVER = "http://127.0.0.1:8080"
API_KEY_ENV = "CORVO_API_KEY"
USER_AGENT = "corvo-sdk-python/0.1.0"

#: The largest message accepted from the server (it sends at most 16 MiB).
MAX_RECEIVE_BYTES = 32 << 20

#: A PEM file path, or the PEM contents.
PemSource = Union[str, "os.PathLike[str]", bytes]


@dataclass(frozen=True)
class Endpoint:
    """One server: ``scheme`` is ``http`` or ``https``; ``target`` is ``host:port``."""

    scheme: str
    target: str

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.target}"

    @property
    def tls(self) -> bool:
        return self.scheme == "https"


def parse_server(url: str) -> Endpoint:
    """Parses ``http://host:port`` or ``https://host:port`` (a bare ``host:port`` means http)."""
    text = url.strip()
    if not text:
        raise ValueError("empty server URL")
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"server URL {url!r}: the scheme must be http or https")
    if not parts.hostname:
        raise ValueError(f"server URL {url!r}: no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"server URL {url!r}: only scheme://host:port is allowed")
    try:
        port = parts.port
    except ValueError as e:
        raise ValueError(f"server URL {url!r}: {e}") from None
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    host = parts.hostname
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return Endpoint(parts.scheme, f"{host}:{port}")


class Endpoints:
    """The configured servers, which one is current, and a leader hint to follow.

    A leader hint (``host:port``) is tried next, with the scheme of the current URL; a
    connection failure moves on to the next configured URL. A hint naming a node that failed a
    moment ago (a follower still names the leader that just died) is not followed.
    """

    #: How long a node that failed is not taken from a hint.
    FAILED_MEMORY = 5.0

    def __init__(self, servers: str | Sequence[str] | None) -> None:
        if servers is None:
            urls: list[str] = [DEFAULT_SERVER]
        elif isinstance(servers, str):
            urls = [servers]
        else:
            urls = list(servers) or [DEFAULT_SERVER]
        self.configured = [parse_server(u) for u in urls]
        self._index = 0
        self._hint: Endpoint | None = None
        self._failed: dict[Endpoint, float] = {}

    @property
    def current(self) -> Endpoint:
        return self._hint or self.configured[self._index]

    def follow_leader(self, addr: str) -> bool:
        """Switches to the leader at ``addr`` (``host:port``). False when ``addr`` is empty or
        already current."""
        addr = addr.strip()
        if not addr:
            return False
        if "://" in addr:
            candidate = parse_server(addr)
        else:
            candidate = Endpoint(self.current.scheme, parse_server(addr).target)
        if candidate == self.current:
            return False
        failed_at = self._failed.get(candidate)
        if failed_at is not None and time.monotonic() - failed_at < self.FAILED_MEMORY:
            return False
        for i, e in enumerate(self.configured):
            if e == candidate:
                self._index = i
                self._hint = None
                return True
        self._hint = candidate
        return True

    def failed(self) -> None:
        """The current server could not be reached: drop a hint, else move to the next URL."""
        now = time.monotonic()
        self._failed = {e: t for e, t in self._failed.items() if now - t < self.FAILED_MEMORY}
        self._failed[self.current] = now
        if self._hint is not None:
            self._hint = None
        else:
            self._index = (self._index + 1) % len(self.configured)


def read_pem(source: PemSource | None, what: str) -> bytes | None:
    if source is None:
        return None
    if isinstance(source, bytes):
        return source
    try:
        with open(source, "rb") as f:
            return f.read()
    except OSError as e:
        raise ValueError(f"cannot read the {what} {os.fspath(source)!r}: {e.strerror}") from None


@dataclass(frozen=True)
class Tls:
    """TLS material: a CA to trust instead of the system roots, and a client certificate and key
    for mTLS (PEM bytes)."""

    ca_cert: bytes | None = None
    client_cert: bytes | None = None
    client_key: bytes | None = None

    @classmethod
    def load(
        cls,
        ca_cert: PemSource | None,
        client_cert: PemSource | None,
        client_key: PemSource | None,
    ) -> Tls:
        if (client_cert is None) != (client_key is None):
            raise ValueError("client_cert and client_key go together (mTLS)")
        return cls(
            read_pem(ca_cert, "CA certificate"),
            read_pem(client_cert, "client certificate"),
            read_pem(client_key, "client key"),
        )

    def credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            root_certificates=self.ca_cert,
            private_key=self.client_key,
            certificate_chain=self.client_cert,
        )


class ApiKey:
    """An API key; its repr never shows the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        value = value.strip()
        if not value:
            raise ValueError("the API key is empty")
        if any(ord(c) < 0x20 or ord(c) > 0x7E for c in value):
            raise ValueError("the API key has characters not allowed in a header")
        self._value = value

    @classmethod
    def resolve(cls, given: str | None) -> ApiKey | None:
        """The key given, else ``CORVO_API_KEY``, else none."""
        if given is not None:
            return cls(given)
        env = os.environ.get(API_KEY_ENV, "").strip()
        return cls(env) if env else None

    def header(self) -> tuple[str, str]:
        return ("authorization", f"Bearer {self._value}")

    def __repr__(self) -> str:
        return "ApiKey(<redacted>)"

    __str__ = __repr__


def channel_options() -> list[tuple[str, int | str]]:
    return [
        ("grpc.max_receive_message_length", MAX_RECEIVE_BYTES),
        ("grpc.primary_user_agent", USER_AGENT),
        # Reconnect quickly when a node comes back (the SDK backs off itself).
        ("grpc.initial_reconnect_backoff_ms", 100),
        ("grpc.min_reconnect_backoff_ms", 100),
        ("grpc.max_reconnect_backoff_ms", 10_000),
        # Notice a node that vanished without closing the connection.
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.keepalive_timeout_ms", 10_000),
        ("grpc.keepalive_permit_without_calls", 0),
        ("grpc.http2.max_pings_without_data", 0),
    ]


def sync_channel(endpoint: Endpoint, tls: Tls) -> grpc.Channel:
    if endpoint.tls:
        return grpc.secure_channel(endpoint.target, tls.credentials(), options=channel_options())
    return grpc.insecure_channel(endpoint.target, options=channel_options())


def aio_channel(endpoint: Endpoint, tls: Tls) -> grpc.aio.Channel:
    if endpoint.tls:
        return grpc.aio.secure_channel(endpoint.target, tls.credentials(), options=channel_options())
    return grpc.aio.insecure_channel(endpoint.target, options=channel_options())


def metadata_dict(pairs: Iterable[Any] | None) -> dict[str, str]:
    """gRPC metadata (``(key, value)`` pairs) as a dict of its text values."""
    out: dict[str, str] = {}
    for key, value in pairs or ():
        if isinstance(key, str) and isinstance(value, str):
            out[key.lower()] = value
    return out


class Backoff:
    """Exponential backoff with full jitter: the n-th wait is uniform in
    [0, min(cap, first * 2**n)], and never shorter than a server's retry hint."""

    def __init__(
        self,
        first: float = 0.1,
        cap: float = 10.0,
        rng: random.Random | None = None,
    ) -> None:
        self.first = first
        self.cap = cap
        self.attempt = 0
        self._rng = rng or random.Random()

    def next(self, at_least: float = 0.0) -> float:
        ceiling = min(self.cap, self.first * (2 ** min(self.attempt, 30)))
        self.attempt += 1
        return max(self._rng.uniform(0.0, ceiling), at_least)

    def reset(self) -> None:
        self.attempt = 0
