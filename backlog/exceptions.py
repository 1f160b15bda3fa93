class VersionConflict(Exception):
    """The item changed since the caller read it (optimistic concurrency)."""

    api_status = 412  # Precondition Failed

    def __init__(self, *, expected: int, current: int, etag: str | None = None) -> None:
        super().__init__(f"The item has changed (version {current}, you sent {expected}); reload it and retry.")
        self.expected = expected
        self.current = current
        self.etag = etag  # the current version's ETag, sent back with the 412
