"""Server settings, read from `REGLAB_*` environment variables (and a `.env` file)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _physical_memory_gb() -> float:
    """This machine's RAM in GB (8 when the OS does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    except (ValueError, OSError, AttributeError):
        return 8.0


def _default_group_memory_gb() -> float:
    """Half the machine's memory shared by its cores' workers, at most 4 GB, at least 0.5 GB."""
    per_worker = 0.5 * _physical_memory_gb() / (os.cpu_count() or 1)
    return round(max(0.5, min(4.0, per_worker)), 1)


def _default_frontend_dir() -> Path:
    """The repo's frontend/: beside backend/ in a checkout or editable install, /app in Docker."""
    package_dir = Path(__file__).resolve().parent  # backend/reglab
    for candidate in (package_dir.parent.parent / "frontend", Path("/app/frontend")):
        if candidate.is_dir():
            return candidate
    return package_dir.parent.parent / "frontend"


class Settings(BaseSettings):
    """Everything an operator may tune; each field is listed in .env.example."""

    model_config = SettingsConfigDict(env_prefix="REGLAB_", env_file=".env", extra="ignore")

    @field_validator("database_url")
    @classmethod
    def _sqlite_only(cls, url: str) -> str:
        # The one writer speaks SQLite (its sequence table, AUTOINCREMENT, PRAGMAs): say so at
        # start-up rather than fail at the first event.
        if not url.startswith("sqlite:"):
            raise ValueError(
                f"REGLAB_DATABASE_URL={url!r} is not SQLite; reglab's store is one SQLite file "
                "(e.g. sqlite:///./data/reglab.db)."
            )
        return url

    database_url: str = Field(
        "sqlite:///./data/reglab.db",
        description="SQLAlchemy URL of the store: a SQLite file, written by this one server "
        "(a class that outgrows one machine spreads its training over Ray, not its store).",
    )
    host: str = Field("127.0.0.1", description="Address `reglab serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `reglab serve` listens on.")
    workers: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        ge=1,
        le=256,
        description="Warm training processes of the local executor.",
    )
    worker_nice: int = Field(
        10,
        ge=0,
        le=19,
        description="Added to the local workers' niceness, so that the API answers promptly "
        "while they train (0: the same priority as the server).",
    )
    executor: Literal["local", "ray"] = Field("local", description="Where groups train.")
    share_runs: bool = Field(
        True,
        description="Compute identical runs once: a run identical to a finished one (every "
        "setting and seed) is served its numbers, one identical to a run under way follows it.",
    )
    ray_address: str | None = Field(
        None, description="Ray cluster address (executor=ray); empty starts a local Ray runtime."
    )
    ray_slots: int = Field(8, ge=1, le=1024, description="Groups in flight on Ray at once.")
    admin_token: str | None = Field(
        None,
        description="Token in X-Reglab-Admin that may cancel or delete "
        "anyone's runs and cancel everything; unset: only owners may.",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins allowed to call the API from a browser page served elsewhere.",
    )
    max_running_runs_per_user: int = Field(
        64, ge=1, description="Runs one user may have queued or running at once."
    )
    max_queued_experiments_per_user: int = Field(
        4, ge=1, description="Unfinished experiments one user may have at once."
    )
    max_member_epochs_per_user: int = Field(
        80_000, ge=1, description="Epochs over all unfinished runs of one user."
    )
    split_groups: bool = Field(
        True,
        description="Split a waiting group over idle workers (replicates apart); each member "
        "trains exactly as alone, so results never depend on the split.",
    )
    merge_group_size: int = Field(
        24,
        ge=1,
        le=64,
        description="While more groups wait than workers are free, waiting groups that can "
        "share a batch (any experiment or user) are merged up to this many members; 1: never.",
    )
    max_running_groups: int | None = Field(
        None,
        ge=1,
        description="Groups training at once over all users; unset: the executor's slots.",
    )
    max_running_groups_per_user: int = Field(
        1,
        ge=1,
        description="Groups one user may have training while other users' groups wait; a "
        "user over it gives back their newest group (it is queued again and retrains).",
    )
    max_pending_groups: int = Field(
        256, ge=1, description="Groups waiting over all users; beyond it submissions get 429."
    )
    max_group_memory_gb: float = Field(
        default_factory=_default_group_memory_gb,
        gt=0,
        description="Estimated peak memory one group may need (GB); a bigger one gets 422. "
        "A worker's hard memory cap is this plus its warm baseline and a margin.",
    )
    max_group_seconds: float = Field(
        1800.0,
        gt=0,
        description="Wall time one group may train (s): a bigger estimate gets 422, and a "
        "group still training after it ends failed with 'time limit', keeping its epochs.",
    )
    worker_gflops: float = Field(
        25.0,
        gt=0,
        description="Floating-point throughput of one worker (GFLOP/s) that time "
        "estimates assume; measured on a 2-core machine, one torch thread.",
    )
    max_snapshots_per_run: int = Field(
        400, ge=1, description="Snapshots one run may store; more frequent ones get 422."
    )
    max_stored_mb_per_user: float = Field(
        500.0,
        gt=0,
        description="What one user's experiments may take in the store (MB, estimated); over "
        "it a submission gets 429 until some are deleted.",
    )
    requeue_interrupted: bool = Field(
        True,
        description="Runs a server stop interrupted train again from their seeds after a "
        "restart (their stored epochs are rewritten with the same numbers); false: they end "
        "`interrupted`.",
    )
    max_request_bytes: int = Field(
        256 * 1024, ge=1024, description="Largest request body accepted (bytes)."
    )
    cancel_grace_s: float = Field(
        3.0,
        gt=0,
        description="Seconds a cancelled group may take "
        "to stop before its worker is killed and replaced.",
    )
    live_queue_size: int = Field(
        1000,
        ge=10,
        description="Messages buffered per websocket "
        "client before it is dropped and told to resume.",
    )
    ws_max_connections: int = Field(
        256,
        ge=1,
        description="Live streams (websockets) open at once over all clients; "
        "one more is closed with code 4429.",
    )
    ws_max_per_user: int = Field(
        32,
        ge=1,
        description="Live streams open at once under one student's name (its token or cookie), "
        "wherever they connect from; one more is closed with code 4429.",
    )
    ws_max_per_client: int = Field(
        32,
        ge=1,
        description="Live streams open at once from one client address without a name; "
        "one more is closed with code 4429.",
    )
    ws_send_timeout_s: float = Field(
        10.0,
        gt=0,
        description="Seconds one websocket message may wait for a client that does not read "
        "before that client is dropped.",
    )
    frontend_dir: Path = Field(
        default_factory=_default_frontend_dir,
        description="Directory with the dashboard's index.html.",
    )
