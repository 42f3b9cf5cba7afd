"""Settings: one pydantic-settings object, read once by the composition root (bootstrap)."""

from __future__ import annotations

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from infrastructure.keystore import DEV_PASSPHRASE as DEV_KEYSTORE_PASSPHRASE

DEV_SECRET = "gongjian-embedded-development-key-not-for-production"  # noqa: S105
_PLACEHOLDERS = ("changeme", "change-me", "change_me", "placeholder", "your-secret", "secret-here", "xxxxxxxx")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GONGJIAN_", extra="ignore")

    database_url: str = "sqlite:///var/gongjian.db"
    redis_url: str | None = None
    jwt_secret: str = DEV_SECRET  # HS256; "" turns HS256 off (production then needs jwt_jwks_file)
    jwt_ttl_hours: int = 12
    # tokens (infrastructure/tokens.py, docs/security.md): RS256/ES256 public keys by kid, a JWKS file
    jwt_jwks_file: str | None = None
    jwt_leeway_s: float = 30.0  # clock skew allowed on exp, nbf and iat
    jwt_issuer: str | None = None  # when set, tokens must carry this iss
    jwt_audience: str | None = None  # when set, tokens must carry this aud
    # limits (interfaces/rest/limits.py): request bodies, and requests per token subject (limits'
    # notation, e.g. "600/minute;50/second"; "" turns rate limiting off), counted in Redis when set
    max_body_bytes: int = 1 << 20
    max_body_bytes_bulk: int = 64 << 20  # POST /api/v1/exchange/spgl takes whole table dumps
    rate_limit: str = "600/minute;60/second"
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
    # 外部推送 (application/delivery.py, docs/delivery.md): one JSON map of destination → URL, e.g.
    # GONGJIAN_DELIVERY_URLS='{"real_estate_registration": "https://…", "water": "https://…"}'
    delivery_urls: dict[str, str] = {}
    delivery_utilities: list[str] = ["water", "power", "gas"]  # destinations of utility pushes
    delivery_utility_items: list[str] = ["GJ-2-01", "GJ-3-03"]  # approvals that push to the utilities
    delivery_retry_base_s: float = 30.0  # retries: base·2^(n-1) s after the n-th failure,
    delivery_retry_cap_s: float = 3600.0  # at most this long,
    delivery_max_attempts: int = 10  # then the message is a dead letter until requeued
    delivery_timeout_s: float = 10.0  # per HTTP attempt
    # 前后逻辑关系: a project's declared land area may differ from its red line's by this share
    land_area_tolerance: float = 0.05

    @property
    def embedded(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def jwt_hs256_secret(self) -> str | None:
        """The HS256 secret in force: a real one, or the development key on the embedded default only."""
        if not self.jwt_secret or (self.jwt_secret == DEV_SECRET and not self.embedded):
            return None
        return self.jwt_secret

    @model_validator(mode="after")
    def _refuse_dev_secret_outside_embedded(self) -> Settings:
        # the development key is public: it is only good for the embedded default
        if self.jwt_hs256_secret is None and not self.jwt_jwks_file:
            raise ValueError(
                "set GONGJIAN_JWT_JWKS_FILE (RS256/ES256 public keys) or a real GONGJIAN_JWT_SECRET: "
                "the development key is refused outside the embedded SQLite default"
            )
        if self.jwt_secret and self.jwt_secret != DEV_SECRET:
            if len(self.jwt_secret) < 32:
                raise ValueError("GONGJIAN_JWT_SECRET must be at least 32 characters")
            if any(word in self.jwt_secret.lower() for word in _PLACEHOLDERS) or len(set(self.jwt_secret)) < 8:
                raise ValueError("GONGJIAN_JWT_SECRET looks like a placeholder: use a random secret")
        if self.jwt_jwks_file:
            from infrastructure.tokens import load_key_set

            load_key_set(self.jwt_jwks_file)  # refuse to start on a missing or unusable key set
        if not 0 <= self.jwt_leeway_s <= 300:
            raise ValueError("GONGJIAN_JWT_LEEWAY_S must be between 0 and 300 seconds")
        if not self.embedded and self.keystore_passphrase == DEV_KEYSTORE_PASSPHRASE:
            raise ValueError(
                "set GONGJIAN_KEYSTORE_PASSPHRASE: the development passphrase of the seal key store is refused "
                "outside the embedded SQLite default"
            )
        return self
