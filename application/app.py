"""The event log, as the services see it (the class lives in infrastructure/log.py)."""

from infrastructure.log import ChannelAsStr, DateAsISO, GongjianApplication

__all__ = ["ChannelAsStr", "DateAsISO", "GongjianApplication"]
