"""One typed settings object, read from the environment (and a `.env` file if present)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent
# The default of Settings.queue_column_sort_limit, named here so the worklist's read
# (service.queue) defaults to the same figure when no settings are at hand.
DEFAULT_QUEUE_COLUMN_SORT_LIMIT = 10_000


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PLEDGE_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=PROJECT_ROOT / "data")
    # Read as DATABASE_URL (the conventional name); SQLite under data_dir when unset.
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    policy_dir: Path = PROJECT_ROOT / "policies"
    template_dir: Path = PROJECT_ROOT / "templates"
    default_policy: str = "met-pledge"
    # The force's units (boroughs) and bank-holiday corrections; policy_dir/met.force.toml
    # unless set.
    force_file: Path | None = None

    # No address: `pledge dev` starts an embedded Temporal dev server.
    temporal_address: str | None = None
    temporal_namespace: str = "default"
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    task_queue: str = "pledge-cases"
    # How long a command waits on the Temporal server or a worker before it says which
    # part is not answering; long enough for a busy worker, short enough not to look hung.
    temporal_timeout_seconds: float = Field(default=10.0, gt=0)

    # `pledge dev` (`make run`) opens this many demo cases with real workflows at its start,
    # reported over the last 45 days (service/demo_workflows.py); none twice; 0: none.
    demo_cases: int = Field(default=60, ge=0)

    # PLEDGE_DEBUG=1 (or `pledge --debug`): show the traceback behind an error message.
    debug: bool = False

    force_name: str = "Metropolitan Police"
    # Victim messages name the borough's Victim Focus Unit with this pattern.
    unit_name_pattern: str = "{borough} Victim Focus Unit"

    # Delivery backends: the local outbox unless SMTP / Twilio settings are present.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    mail_from: str = "Pledge Monitor <no-reply@pledge.invalid>"
    mail_reply_to: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_base_url: str | None = None
    public_base_url: str = "http://127.0.0.1:8000"
    # The web app (the HTTP API and the Twilio webhook).
    web_host: str = "127.0.0.1"
    web_port: int = 8000
    # Requests per token per minute, and how many may come at once above that pace.
    api_rate_per_minute: float = 600.0
    api_rate_burst: int = 60
    # How long a write waits for Temporal and the worker before answering 202 or 503.
    api_write_timeout_seconds: float = 10.0
    # Staff alert addresses for a unit the force file gives none for.
    vfu_email_pattern: str = "vfu-{borough}@pledge.invalid"
    manager_email_pattern: str = "manager-{borough}@pledge.invalid"

    # Retention of personal data: a closed case's victim contact profile is erased this
    # many days after closure (a case can be reopened for a year: keep at least that),
    # by a daily Temporal Schedule at this hour, London time.
    retention_days_after_closure: int = Field(default=365, ge=1)
    retention_hour: int = Field(default=3, ge=0, le=23)

    # --- Staff pages: sign-in, sessions and their rate limits -------------------------
    # The VFU worklist sorts by a column other than urgency or time left only a list this
    # long or shorter (service.queue_model.COLUMN_SORT_LIMIT says why).
    queue_column_sort_limit: int = Field(default=DEFAULT_QUEUE_COLUMN_SORT_LIMIT, ge=0)
    # A session ends after this long without a request, and this long after sign-in.
    staff_idle_timeout_minutes: float = Field(default=30.0, gt=0)
    staff_session_lifetime_hours: float = Field(default=12.0, gt=0)
    staff_cookie_name: str = Field(default="pledge_session", pattern=r"^[A-Za-z0-9_-]+$")
    # auto: Secure unless public_base_url is plain http on a loopback address (development).
    staff_cookie_secure: Literal["auto", "always", "never"] = "auto"
    # Failed sign-ins allowed per account, and per client address, in any window; more are
    # refused until the oldest failure leaves the window (never a lock-out for good).
    staff_sign_in_window_minutes: float = Field(default=15.0, gt=0)
    staff_sign_in_failures_per_account: int = Field(default=10, gt=0)
    staff_sign_in_failures_per_address: int = Field(default=50, gt=0)

    # --- Track my report: victims' sign-in by one-time code and their pages (web/pages/victim.py).
    # A code is single-use and lives this long; this many wrong codes lock the reference for
    # the lock duration; one address (the client's IP) may ask for this many codes per window.
    victim_code_lifetime_minutes: int = Field(default=10, ge=1, le=60)
    victim_code_max_wrong: int = Field(default=5, ge=1)
    victim_code_lock_minutes: int = Field(default=15, ge=1)
    victim_code_requests_per_address: int = Field(default=10, ge=1)
    victim_code_request_window_minutes: int = Field(default=60, ge=1)
    # Codes sent to one reference in one window: more are not sent (the page is unchanged),
    # so nobody can flood a victim's phone with codes by typing their reference.
    victim_codes_per_reference: int = Field(default=3, ge=1)
    # A victim's session ends after this long without a page view (short: shared devices).
    victim_session_idle_minutes: int = Field(default=30, ge=1, le=240)
    # Where "Exit this page" and Shift pressed three times go: a neutral site (a link, not
    # an asset the pages load).
    victim_exit_url: str = "https://www.bbc.co.uk/weather"

    # --- Production: Temporal connection, worker tuning, payload encryption, codec server,
    # observability (docs/operations.md). Every default keeps `make run` as it was: no TLS,
    # no keys, plain logs, no metrics ports.
    # TLS to the Temporal frontend: a CA file alone verifies the server; a client
    # certificate and key as well is mutual TLS. temporal_tls=True with no files uses the
    # system's CAs (Temporal Cloud, for one).
    temporal_tls: bool = False
    temporal_tls_ca_file: Path | None = None
    temporal_tls_cert_file: Path | None = None
    temporal_tls_key_file: Path | None = None
    # The name the server's certificate is for, when it differs from the address's host.
    temporal_tls_server_name: str | None = None
    # An API key (Temporal Cloud): sent as a bearer token; implies TLS.
    temporal_api_key: SecretStr | None = None
    # The worker. Concurrency bounds how many activities (sends, database writes) and
    # workflow tasks run at once in one worker process; the cache keeps that many
    # workflows in memory so a signal or timer replays nothing. Each cached case holds a
    # sandbox of its own; a case spends almost all its life asleep on a timer, and one
    # evicted replays from its history on its next wake: 500 (not the SDK's 1000) keeps
    # intake's peak memory down (measured with bench/intake.py). The grace period lets
    # running activities finish after SIGTERM before they are cancelled.
    # Activities (local ones too: sends, records) run in a thread pool of this size, and
    # all its threads share the one interpreter lock. A thread that waits on a provider
    # gives the lock up; a thread holding a database lock (the SQLite writer, a report
    # summary row on PostgreSQL) while it waits for the interpreter lock holds up every
    # writer behind it. 8 (not 32) keeps sends to an outside provider overlapping and the
    # workflow-task loop fed. bench/intake.py --cases 500, load average 6-13 on 2 cores:
    # 32 threads 15.1 cases/s, 36.9 ms worker CPU a case; 8 threads 18.5-20.5 cases/s,
    # 33 ms; 4 threads 21.3 cases/s, 30.4 ms. At 2,000 cases (load 10-12): 32 threads
    # 13.4 cases/s, 41.1 ms; 8 threads 14.7 cases/s, 37.9 ms. More workers, not more
    # threads, use more cores.
    worker_max_concurrent_activities: int = Field(default=8, ge=1)
    worker_max_concurrent_workflow_tasks: int = Field(default=32, ge=2)
    worker_max_cached_workflows: int = Field(default=500, ge=0)
    worker_graceful_shutdown_seconds: float = Field(default=30.0, ge=0)
    # Payload encryption: "id:base64key,id:base64key", newest first (AES-256-GCM, 32-byte
    # keys). New payloads use the first; every listed key still decodes. Unset: plain
    # JSON payloads, as in development.
    payload_keys: SecretStr | None = None
    # Search attributes are not encrypted; a force that treats the category itself as
    # sensitive switches PledgeCategory off (listing by category then needs the database).
    publish_category_search_attribute: bool = True
    # The codec server (`pledge codec-server`) the Temporal UI decodes payloads with.
    codec_token: SecretStr | None = None
    codec_allowed_origin: str = "http://127.0.0.1:8233"
    codec_host: str = "127.0.0.1"
    codec_port: int = 8081
    # Logs: "plain" lines for a terminal, or "json" lines for a log collector.
    log_format: Literal["plain", "json"] = "plain"
    # The worker's Prometheus metrics and health (GET /metrics, /healthz) on this port,
    # and the Temporal SDK's own metrics on the second; unset, neither is served.
    worker_metrics_host: str = "127.0.0.1"
    worker_metrics_port: int | None = None
    worker_sdk_metrics_port: int | None = None

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'pledge.db'}"

    @property
    def resolved_force_file(self) -> Path:
        return self.force_file or self.policy_dir / "met.force.toml"

    @property
    def temporal_state_file(self) -> Path:
        return self.data_dir / "temporal.db"
