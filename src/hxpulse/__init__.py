"""HX Pulse: one profile per customer, a live pulse, closed loops."""
