"""The contract between detectors and delivery: what a notice request is and how it is queued."""

from headsup.notices.request import NoticeKind, NoticeRequest, Topic, make_notice_id

__all__ = ["NoticeKind", "NoticeRequest", "Topic", "make_notice_id"]
