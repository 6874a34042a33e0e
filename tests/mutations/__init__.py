"""Security- and behaviour-breaking edits of emitted templates and plans (the mutation suite)."""
