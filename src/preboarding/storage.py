"""Object storage for videos: S3/MinIO through the ``minio`` client, or a local folder.

Every component reaches the store through ``Store``, and sees only its errors (``ObjectNotFound``,
``StoreUnavailable``), never the S3 client's: the renderer reads inputs and writes outputs,
the operator deletes a video's prefix in its finalizer, the bridge presigns links. ``LocalStore``
backs ``preboarding render`` (no server needed) and unit tests.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class StoreSettings(BaseSettings):
    """S3 settings shared by all components (environment variables ``PREBOARDING_S3_*``)."""

    model_config = SettingsConfigDict(env_prefix="PREBOARDING_S3_", extra="ignore")

    endpoint: str = "127.0.0.1:9000"
    """host:port (or URL) the components talk to."""
    access_key: SecretStr = SecretStr("")
    secret_key: SecretStr = SecretStr("")
    bucket: str = "preboarding"
    secure: bool = False
    region: str = "us-east-1"
    """Fixed so that presigning needs no network call to discover the bucket's region."""
    public_endpoint: str | None = None
    """URL the new hire's browser uses (e.g. https://media.example.com); links are signed for it."""

    @field_validator("endpoint")
    @classmethod
    def _strip_scheme(cls, value: str) -> str:
        return _host_port(value)[0] if "://" in value else value


def _host_port(url: str) -> tuple[str, bool]:
    """``http(s)://host:port/`` -> (``host:port``, secure)."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    return parts.netloc, parts.scheme == "https"


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    last_modified: dt.datetime | None


class Store(Protocol):
    """What the components need from object storage."""

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None: ...
    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> None: ...
    def get_bytes(self, key: str) -> bytes: ...
    def get_file(self, key: str, path: Path) -> None: ...
    def exists(self, key: str) -> bool: ...
    def list(self, prefix: str) -> list[StoredObject]: ...
    def delete_prefix(self, prefix: str) -> int: ...
    def presigned_get_url(self, key: str, expires: dt.timedelta) -> str: ...
    def ping(self) -> None: ...


class StoreError(Exception):
    """Base of the store's errors: callers catch these, never the S3 client's own."""


class ObjectNotFound(StoreError, KeyError):
    """The key does not exist in the store."""


class StoreUnavailable(StoreError):
    """The store cannot be used now: unreachable, timing out, failing, or refusing the request.

    The message names the operation and the kind of failure, never a URL or a credential.
    """


@contextlib.contextmanager
def _translated(operation: str, key: str = "") -> Iterator[None]:
    """The S3 client's errors as the store's: NoSuchKey -> ObjectNotFound, anything else -> StoreUnavailable."""
    import urllib3
    from minio.error import MinioException, S3Error

    try:
        yield
    except S3Error as exc:
        if exc.code in ("NoSuchKey", "NoSuchObject"):
            raise ObjectNotFound(key) from exc
        raise StoreUnavailable(f"{operation}: the store answered {exc.code}") from exc
    except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise StoreUnavailable(f"{operation}: {type(exc).__name__}") from exc


class S3Store:
    """A bucket on S3 or MinIO. Every method raises only ``StoreError``s."""

    def __init__(self, settings: StoreSettings) -> None:
        from minio import Minio

        self.settings = settings
        self.bucket = settings.bucket
        self._client = Minio(
            settings.endpoint,
            access_key=settings.access_key.get_secret_value(),
            secret_key=settings.secret_key.get_secret_value(),
            secure=settings.secure,
            region=settings.region,
        )
        if settings.public_endpoint:
            host, secure = _host_port(settings.public_endpoint)
            # Presigning is offline (the region is fixed), so this client never opens a connection.
            self._public = Minio(
                host,
                access_key=settings.access_key.get_secret_value(),
                secret_key=settings.secret_key.get_secret_value(),
                secure=secure,
                region=settings.region,
            )
        else:
            self._public = self._client

    def ensure_bucket(self) -> None:
        with _translated("create the bucket"):
            if not self._client.bucket_exists(self.bucket):
                self._client.make_bucket(self.bucket)

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        import io

        with _translated("put", key):
            self._client.put_object(self.bucket, key, io.BytesIO(data), len(data), content_type=content_type)

    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> None:
        with _translated("put", key):
            self._client.fput_object(self.bucket, key, str(path), content_type=content_type)

    def get_bytes(self, key: str) -> bytes:
        with _translated("get", key):
            response = self._client.get_object(self.bucket, key)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

    def get_file(self, key: str, path: Path) -> None:
        with _translated("get", key):
            self._client.fget_object(self.bucket, key, str(path))

    def exists(self, key: str) -> bool:
        try:
            with _translated("stat", key):
                self._client.stat_object(self.bucket, key)
        except ObjectNotFound:
            return False
        return True

    def list(self, prefix: str) -> list[StoredObject]:
        with _translated("list", prefix):
            return [
                StoredObject(o.object_name or "", o.size or 0, o.last_modified)
                for o in self._client.list_objects(self.bucket, prefix=prefix, recursive=True)
            ]

    def delete_prefix(self, prefix: str) -> int:
        from minio.deleteobjects import DeleteObject

        if not prefix.endswith("/"):
            raise ValueError("delete_prefix needs a folder-like prefix ending in '/'")
        keys = [o.key for o in self.list(prefix)]
        with _translated("delete", prefix):
            errors = list(self._client.remove_objects(self.bucket, [DeleteObject(k) for k in keys]))
        if errors:
            raise StoreUnavailable(f"delete: {len(errors)} objects under the prefix were not deleted "
                                   f"({errors[0].code})")
        return len(keys)

    def presigned_get_url(self, key: str, expires: dt.timedelta) -> str:
        with _translated("presign", key):
            return self._public.presigned_get_object(self.bucket, key, expires=expires)

    def ping(self) -> None:
        with _translated("ping"):
            found = self._client.bucket_exists(self.bucket)
        if not found:
            raise StoreUnavailable(f"bucket {self.bucket!r} does not exist")


class LocalStore:
    """A folder standing in for a bucket; presigned URLs are file:// URLs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"key escapes the store: {key!r}")
        return path

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.resolve() != target:
            shutil.copyfile(path, target)

    def get_bytes(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise ObjectNotFound(key) from exc

    def get_file(self, key: str, path: Path) -> None:
        source = self._path(key)
        if not source.is_file():
            raise ObjectNotFound(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, path)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str) -> list[StoredObject]:
        out = []
        for path in sorted(self.root.rglob("*")):
            key = path.relative_to(self.root).as_posix()
            if path.is_file() and key.startswith(prefix):
                stat = path.stat()
                out.append(StoredObject(key, stat.st_size, dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC)))
        return out

    def delete_prefix(self, prefix: str) -> int:
        objects = self.list(prefix)
        for obj in objects:
            self._path(obj.key).unlink()
        return len(objects)

    def presigned_get_url(self, key: str, expires: dt.timedelta) -> str:
        return self._path(key).as_uri()

    def ping(self) -> None:
        if not self.root.is_dir():
            raise StoreUnavailable(f"store folder {self.root} does not exist")
