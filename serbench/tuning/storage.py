"""Where studies live: SQLite under the runs folder by default, any database URL otherwise.

``runs/studies/<study>.db`` (root ``SERBENCH_RUNS``) holds a study unless ``--storage``
names another URL Optuna accepts (``postgresql://user:pw@host/db``, ``mysql://...``).
Either way the storage is an :class:`optuna.storages.RDBStorage` with heartbeats: every
running trial beats every ``heartbeat`` seconds; a trial silent for ``2 * heartbeat``
seconds (its worker was killed or lost) is marked FAIL by the next worker that starts a
trial (:func:`optuna.storages.fail_stale_trials`) and its parameters are queued again once
(:class:`~optuna.storages.RetryHeartbeatStaleTrialCallback`). A worker killed between
creating a trial and its first heartbeat leaves a running trial with no heartbeat at
all, which Optuna never calls stale; :class:`HeartbeatStorage` treats such a trial as
stale once it is ``2 * heartbeat`` seconds old. Many workers share a study by name
(``load_if_exists``); a crashed study resumes by running the same command again.

Studies written this way are plain Optuna storages: ``optuna-dashboard <url>`` reads them.
"""

from __future__ import annotations

import re
import warnings
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.trial import TrialState

from serbench import paths
from serbench.errors import ConfigError

#: default seconds between heartbeats of a running trial
HEARTBEAT = 60


def studies_dir(runs_dir: Path | str | None = None) -> Path:
    """``<runs>/studies``: the default SQLite files and every study's outputs."""
    root = Path(runs_dir).expanduser() if runs_dir else paths.runs_dir()
    return root / "studies"


def default_url(study: str, runs_dir: Path | str | None = None) -> str:
    """``sqlite:///<runs>/studies/<study>.db`` (absolute path)."""
    folder = studies_dir(runs_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(folder / f'{study}.db').resolve()}"


def redact(url: str) -> str:
    """The URL without its password, for records and messages."""
    return re.sub(r"(//[^:/@]+):[^@/]*@", r"\1:***@", url)


def driver_url(url: str) -> str:
    """``postgresql://`` with the driver that is installed.

    SQLAlchemy 2.1 reads a bare ``postgresql://`` as psycopg 3; serbench's ``postgres``
    extra installs psycopg2, so the bare scheme is pointed at whichever is importable.
    """
    import importlib.util

    scheme, sep, rest = url.partition("://")
    if sep and scheme in ("postgresql", "postgres"):
        has = {m: importlib.util.find_spec(m) is not None for m in ("psycopg", "psycopg2")}
        if not has["psycopg"] and has["psycopg2"]:
            return f"postgresql+psycopg2://{rest}"
        return f"postgresql://{rest}"
    return url


class HeartbeatStorage(RDBStorage):
    """Optuna's RDB storage, where a running trial that never beat also goes stale."""

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        # disjoint: Optuna's stale trials all have a heartbeat row, never-beaten ones none
        return super()._get_stale_trial_ids(study_id) + self._never_beaten(study_id)

    def _never_beaten(self, study_id: int) -> list[int]:
        """Running trials older than the grace period without a heartbeat row.

        ``datetime_start`` is the creating worker's local ``datetime.now()``, so the age
        is measured on the same clock (the database's clock stamps heartbeats only).
        """
        from optuna.storages._rdb import models

        grace = timedelta(seconds=self.grace_period or 2 * (self.heartbeat_interval or 0))
        running = self.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,))
        now = datetime.now()
        old = {t._trial_id for t in running
               if t.datetime_start is not None and now - t.datetime_start > grace}
        if not old:
            return []
        with self.scoped_session() as session:
            beaten = {row[0] for row in session.query(models.TrialHeartbeatModel.trial_id)
                      .filter(models.TrialHeartbeatModel.trial_id.in_(old))}
        return sorted(old - beaten)


def open_storage(url: str, *, heartbeat: int = HEARTBEAT, retries: int = 1) -> HeartbeatStorage:
    """An RDB storage with heartbeats; an unreachable URL is a ConfigError naming it."""
    shown, url = redact(url), driver_url(url)
    if heartbeat < 1:
        raise ConfigError(f"--heartbeat must be >= 1 second, got {heartbeat}")
    engine_kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        # several processes on one SQLite file wait for the lock instead of failing at once
        engine_kwargs = {"connect_args": {"timeout": 60}}
    elif url.startswith(("postgresql", "postgres", "mysql")):
        engine_kwargs = {"pool_pre_ping": True}
        if url.startswith(("postgresql", "postgres")):
            engine_kwargs["connect_args"] = {"connect_timeout": 10}
    try:
        with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna's terms
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return HeartbeatStorage(
                url, engine_kwargs=engine_kwargs, heartbeat_interval=heartbeat,
                grace_period=2 * heartbeat,
                heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(
                    max_retry=retries) if retries > 0 else None,
            )
    except Exception as exc:  # noqa: BLE001 - sqlalchemy/driver errors vary by backend
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if isinstance(exc, ImportError) or "import DB access module" in first:
            raise ConfigError(
                f"--storage {shown}: the database driver is not installed ({first}); for "
                "PostgreSQL run `pip install 'serbench[postgres]'` (psycopg2-binary)"
            ) from None
        raise ConfigError(
            f"--storage {shown}: cannot open the study database ({redact(first)}). Check "
            "the URL, that the server is running and reachable, and the credentials."
        ) from None


def check_study_attrs(study: optuna.Study, expected: dict[str, Any], url: str) -> None:
    """Refuse to continue a study made for another model/corpus/space/objective.

    ``expected`` is written into the study's user attributes the first time; later
    workers and resumes compare with it and name every differing key.
    """
    from serbench.tuning.space import space_differences

    stored = study.user_attrs
    if "serbench" not in stored:
        for key, value in expected.items():
            study.set_user_attr(key, value)
        study.set_user_attr("serbench", True)
        return
    problems = []
    for key, value in expected.items():
        if key not in stored or stored[key] == value:
            continue
        if key == "search_space":
            problems += space_differences(stored[key], value)
        else:
            problems.append(f"{key}: study has {stored[key]!r}, now {value!r}")
    if problems:
        raise ConfigError(
            f"study {study.study_name!r} in {redact(url)} was made with another "
            "configuration:\n  " + "\n  ".join(problems) + "\nRun with the study's settings "
            "to continue it, or give a new --study name."
        )
