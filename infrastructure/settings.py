"""Settings: one pydantic-settings object, read once by the composition root (bootstrap)."""

from __future__ import annotations

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from infrastructure.keystore import DEV_PASSPHRASE as DEV_KEYSTORE_PASSPHRASE

DEV_SECRET = "gongjian-embedded-development-key-not-for-production"  # noqa: S105


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GONGJIAN_", extra="ignore")

    database_url: str = "sqlite:///var/gongjian.db"
    redis_url: str | None = None
    jwt_secret: str = DEV_SECRET
    jwt_ttl_hours: int = 12
    host: str = "127.0.0.1"
    port: int = 8000
    batch_size: int = 500
    wait_timeout_s: float = 5.0
    postgres_lock_timeout_s: int = 10
    keystore_path: str = "var/keys"  # seals' private keys, encrypted (infrastructure/keystore.py)
    keystore_passphrase: str = DEV_KEYSTORE_PASSPHRASE  # public: refused outside the embedded default
    # the ledger (infrastructure/ledger_key.py, projections/ledger.py): Ed25519 checkpoint key (PEM);
    # unset: var/keys/ next to the embedded database, generated there, never generated elsewhere
    ledger_key_file: str | None = None
    ledger_algorithm: str = "sm3"  # sm3 | sha256, fixed when the ledger is first built
    ledger_checkpoint_every: int = 1000  # a signed checkpoint every N events,
    ledger_checkpoint_seconds: int = 3600  # or at the first event recorded T seconds after the last one
    archive_path: str = "var/archives"  # archive package files (application/archives.py)
    archive_transfer_url: str | None = None  # the archive management system (档案管理系统) taking packages
    archive_retry_base_s: float = 30.0  # transfer retries: base·2^(n-1) s after the n-th failure,
    archive_retry_cap_s: float = 3600.0  # at most this long,
    archive_max_attempts: int = 8  # then the transfer gives up until requested again

    @property
    def embedded(self) -> bool:
        return self.database_url.startswith("sqlite")

    @model_validator(mode="after")
    def _refuse_dev_secret_outside_embedded(self) -> Settings:
        # the development key is public: it is only good for the embedded default
        if not self.embedded and self.jwt_secret == DEV_SECRET:
            raise ValueError(
                "set GONGJIAN_JWT_SECRET: the development key is refused outside the embedded SQLite default"
            )
        if len(self.jwt_secret) < 32:
            raise ValueError("GONGJIAN_JWT_SECRET must be at least 32 characters")
        if not self.embedded and self.keystore_passphrase == DEV_KEYSTORE_PASSPHRASE:
            raise ValueError(
                "set GONGJIAN_KEYSTORE_PASSPHRASE: the development passphrase of the seal key store is refused "
                "outside the embedded SQLite default"
            )
        return self
