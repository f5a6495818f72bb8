"""The PI's door to the unblinding key: participant, arm, timepoint, site, session, clinician.

Every function checks the PI role again and writes an audit row in the same transaction as
the read, so an unblinding that happened is always on record; so is one refused.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .accounts import require_role
from .store import Store
from .store.models import Account, Participant, Recording, RecordingKey

KEY_COLUMNS = ("recording_id", "participant_id", "site", "arm", "timepoint", "session", "clinician")


def _key_table(db: Session) -> pd.DataFrame:
    rows = db.execute(
        select(
            Recording.code,
            RecordingKey.external_id.label("recording_id"),
            Participant.external_id.label("participant_id"),
            Participant.site,
            Participant.arm,
            RecordingKey.timepoint,
            RecordingKey.session,
            RecordingKey.clinician,
        )
        .join(RecordingKey, RecordingKey.recording_id == Recording.id)
        .join(Participant, Participant.id == RecordingKey.participant_id)
        .order_by(RecordingKey.external_id)
    ).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=["code", *KEY_COLUMNS])


@audit.refusals("refused.unblinding", "recording")
def key_table(store: Store, pi: Account, purpose: str) -> pd.DataFrame:
    """Every recording's code beside its unblinding key; audited with ``purpose``."""
    require_role(pi, "pi")
    with store.write() as db:
        table = _key_table(db)
        audit.record(db, pi.name, "unblind.key_table", "recording", None, new={"rows": len(table)}, reason=purpose)
    return table
