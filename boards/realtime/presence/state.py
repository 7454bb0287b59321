"""What a board's presence looks like to the rest of the code (both stores return it)."""

from dataclasses import dataclass, field
from datetime import datetime, timezone

ACTIVE = "active"
AWAY = "away"


def now_iso():
    """lastSeen as the wire writes it (SPEC §11): ISO 8601, UTC, `Z`."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class PresenceState:
    viewers: int = 0
    users: list = field(default_factory=list)  # distinct logged-in users, {"id","name","status","lastSeen"}
    # Bumped by every add/remove of the board. A joiner drops presence frames
    # older than its own join: the layer may deliver a frame published just
    # before the join (Redis pub/sub is read asynchronously).
    version: int = 0
