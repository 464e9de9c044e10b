"""Cases: the closed loop (teams, owners, SLAs on business hours, the inbox)."""
