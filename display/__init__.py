"""Hall and window display pages and the spoken announcements."""
