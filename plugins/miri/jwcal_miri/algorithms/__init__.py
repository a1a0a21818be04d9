"""MIRI-only detector1 corrections: first/last frame flagging, reset anomaly, RSCD flagging."""
