"""My support: how much peer contact a member has had (GET /members/me/support) and the peer-support log (CSV)."""
