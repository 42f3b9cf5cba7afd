"""Settings: one pydantic-settings object, read once by the composition root (bootstrap)."""

from __future__ import annotations

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from infrastructure.keystore import DEV_PASSPHRASE as DEV_KEYSTORE_PASSPHRASE

DEV_SECRET = "gongjian-embedded-development-key-not-for-production"  # noqa: S105
# the README's `make run`: the one store on which development conveniences are on without a switch
EMBEDDED_DEFAULT = "sqlite:///var/gongjian.db"
_PLACEHOLDERS = ("changeme", "change-me", "change_me", "placeholder", "your-secret", "secret-here", "xxxxxxxx")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GONGJIAN_", extra="ignore")

    database_url: str = EMBEDDED_DEFAULT
    # a PostgreSQL streaming replica of database_url's server: GraphQL reads there, `atLeast` waits for
    # the replica's own read-model positions; commands and projection runners stay on the primary
    read_database_url: str | None = None
    # GONGJIAN_DEVELOPMENT=true: the development conveniences (public JWT key, minted tokens, signing
    # codes in responses, generated keys) on a store other than the embedded default; logged loudly
    development: bool = False
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
    ledger_checkpoint_seconds: int = 60  # or at the first event recorded T seconds after the last one
    # the C2SP checkpoint origin line (and the log key's name in its signed notes); unique per deployment
    ledger_origin: str = "gongjian.hainan.gov.cn/ledger"
    # witnesses (application/witnessing.py, docs/evidence.md): C2SP tlog-witness services cosigning each
    # checkpoint. One JSON map of witness name → URL prefix (POST <prefix>/add-checkpoint), e.g.
    # GONGJIAN_WITNESS_URLS='{"w1.example/witness": "http://10.0.0.5:7380"}', and their keys as vkeys
    # (`<name>+<key id>+<base64(0x04 ‖ Ed25519 key)>`, printed by `gongjian witness keygen`)
    witness_urls: dict[str, str] = {}
    witness_keys: list[str] = []
    witness_quorum: int = 0  # `audit verify` needs this many valid cosignatures (0: none needed) ...
    witness_max_age_s: float = 600.0  # ... on every checkpoint older than this
    witness_retry_base_s: float = 5.0  # submissions to a witness that is down: base·2^(n-1) s after the n-th failure,
    witness_retry_cap_s: float = 300.0  # at most this long (never given up: the checkpoints wait in the outbox)
    witness_timeout_s: float = 10.0  # per HTTP attempt
    witness_every_s: float = 5.0  # the service's submitter looks for new checkpoints this often
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
    # 移动签章 (application/mobile_codes.py, infrastructure/sms.py, docs/evidence.md): one-time codes by SMS.
    # Unset: on in development mode (codes kept in memory) or when GONGJIAN_SMS_URL is set, off elsewhere;
    # true outside development mode needs the gateway (refused at start otherwise)
    mobile_signing: bool | None = None
    sms_url: str | None = None  # the SMS gateway (短信平台): POST JSON {phone, template_id, params, message_id}
    sms_token: str | None = None  # sent as the Authorization header, as given (e.g. "Bearer …", "APPCODE …")
    sms_template: str = ""  # the gateway's template id of the code text (params: code, minutes)
    sms_timeout_s: float = 5.0  # per HTTP attempt (connect at most 3 s)
    sms_retry_base_s: float = 2.0  # retries: base·2^(n-1) s after the n-th failure,
    sms_retry_cap_s: float = 30.0  # at most this long, never at or after the code's expiry (5 minutes)
    # 前后逻辑关系: a project's declared land area may differ from its red line's by this share
    land_area_tolerance: float = 0.05

    @property
    def development_mode(self) -> bool:
        """Development conveniences are on: the embedded default of `make run`, or the explicit switch.
        Any other store, a SQLite file included, is treated as production."""
        return self.development or self.database_url == EMBEDDED_DEFAULT

    @property
    def mobile_signing_on(self) -> bool:
        """移动签章 is offered: as set, or by default in development mode or with a gateway configured."""
        if self.mobile_signing is not None:
            return self.mobile_signing
        return self.development_mode or bool(self.sms_url)

    @property
    def jwt_hs256_secret(self) -> str | None:
        """The HS256 secret in force: a real one, or the development key in development mode only."""
        if not self.jwt_secret or (self.jwt_secret == DEV_SECRET and not self.development_mode):
            return None
        return self.jwt_secret

    @model_validator(mode="after")
    def _refuse_dev_secret_outside_embedded(self) -> Settings:
        # the development key is public: it is only good for the embedded default
        if self.jwt_hs256_secret is None and not self.jwt_jwks_file:
            raise ValueError(
                "set GONGJIAN_JWT_JWKS_FILE (RS256/ES256 public keys) or a real GONGJIAN_JWT_SECRET: "
                "the development key is refused outside the embedded default (sqlite:///var/gongjian.db) "
                "unless GONGJIAN_DEVELOPMENT=true"
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
        if not 0 <= self.witness_quorum <= len(self.witness_keys):
            raise ValueError(
                f"GONGJIAN_WITNESS_QUORUM={self.witness_quorum} needs as many keys in GONGJIAN_WITNESS_KEYS"
                f" ({len(self.witness_keys)} configured)"
            )
        if not self.development_mode and self.keystore_passphrase == DEV_KEYSTORE_PASSPHRASE:
            raise ValueError(
                "set GONGJIAN_KEYSTORE_PASSPHRASE: the development passphrase of the seal key store is refused "
                "outside the embedded default unless GONGJIAN_DEVELOPMENT=true"
            )
        self._check_sms()
        if self.read_database_url and not (
            self.read_database_url.startswith("postgres") and self.database_url.startswith("postgres")
        ):
            raise ValueError(
                "GONGJIAN_READ_DATABASE_URL needs PostgreSQL: a streaming replica of GONGJIAN_DATABASE_URL"
            )
        return self

    def _check_sms(self) -> None:
        if self.mobile_signing_on and not self.sms_url and not self.development_mode:
            raise ValueError(
                "GONGJIAN_MOBILE_SIGNING=true needs an SMS gateway (GONGJIAN_SMS_URL, GONGJIAN_SMS_TEMPLATE): "
                "codes are kept in memory only in development mode"
            )
        if self.sms_url:
            if not self.sms_url.startswith(("http://", "https://")):
                raise ValueError("GONGJIAN_SMS_URL must be an http(s) URL")
            if not self.sms_template.strip():
                raise ValueError("GONGJIAN_SMS_TEMPLATE (the gateway's template id of the code text) is required")
        if not (0 < self.sms_retry_base_s <= self.sms_retry_cap_s and self.sms_timeout_s > 0):
            raise ValueError("GONGJIAN_SMS_RETRY_BASE_S must be > 0 and ≤ GONGJIAN_SMS_RETRY_CAP_S; timeout > 0")
