"""The audit log: who did what to which object, in which unit, when."""
