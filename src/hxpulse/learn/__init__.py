"""What `hxpulse fit` learns from the event log, stored for serving (`learn.store`)."""
