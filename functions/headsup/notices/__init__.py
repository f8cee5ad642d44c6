"""The contract between detectors and delivery: what a notice request is and how it is queued."""

from headsup.notices.request import Audience, NoticeKind, NoticeRequest, Topic, make_notice_id

__all__ = ["Audience", "NoticeKind", "NoticeRequest", "Topic", "make_notice_id"]
