"""The pulse: live running sums per customer, explained on demand."""
