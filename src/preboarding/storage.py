"""Object storage for videos: S3/MinIO through the ``minio`` client, or a local folder.

Every component reaches the store through ``Store``: the renderer reads inputs and writes outputs,
the operator deletes a video's prefix in its finalizer, the bridge presigns links. ``LocalStore``
backs ``preboarding render`` (no server needed) and unit tests.
"""

from __future__ import annotations

import datetime as dt
import shutil
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


class ObjectNotFound(KeyError):
    """The key does not exist in the store."""


class S3Store:
    """A bucket on S3 or MinIO."""

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
        if not self._client.bucket_exists(self.bucket):
            self._client.make_bucket(self.bucket)

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        import io

        self._client.put_object(self.bucket, key, io.BytesIO(data), len(data), content_type=content_type)

    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> None:
        self._client.fput_object(self.bucket, key, str(path), content_type=content_type)

    def get_bytes(self, key: str) -> bytes:
        from minio.error import S3Error

        try:
            response = self._client.get_object(self.bucket, key)
        except S3Error as exc:
            if exc.code == "NoSuchKey":
                raise ObjectNotFound(key) from exc
            raise
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def get_file(self, key: str, path: Path) -> None:
        from minio.error import S3Error

        try:
            self._client.fget_object(self.bucket, key, str(path))
        except S3Error as exc:
            if exc.code == "NoSuchKey":
                raise ObjectNotFound(key) from exc
            raise

    def exists(self, key: str) -> bool:
        from minio.error import S3Error

        try:
            self._client.stat_object(self.bucket, key)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                return False
            raise
        return True

    def list(self, prefix: str) -> list[StoredObject]:
        return [
            StoredObject(o.object_name or "", o.size or 0, o.last_modified)
            for o in self._client.list_objects(self.bucket, prefix=prefix, recursive=True)
        ]

    def delete_prefix(self, prefix: str) -> int:
        from minio.deleteobjects import DeleteObject

        if not prefix.endswith("/"):
            raise ValueError("delete_prefix needs a folder-like prefix ending in '/'")
        keys = [o.key for o in self.list(prefix)]
        errors = list(self._client.remove_objects(self.bucket, [DeleteObject(k) for k in keys]))
        if errors:
            raise RuntimeError(f"could not delete {len(errors)} objects under {prefix}: {errors[0]}")
        return len(keys)

    def presigned_get_url(self, key: str, expires: dt.timedelta) -> str:
        return self._public.presigned_get_object(self.bucket, key, expires=expires)

    def ping(self) -> None:
        if not self._client.bucket_exists(self.bucket):
            raise RuntimeError(f"bucket {self.bucket!r} does not exist")


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
            raise RuntimeError(f"store folder {self.root} does not exist")
